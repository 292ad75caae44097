/* endpoint_echo.c — reducing an echoed prompt to what every server's decoding agrees on (see endpoint_echo.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "harness/strbuf.h"
#include "harness/xalloc.h"
#include "model/endpoint_echo.h"

char *endpoint_echo_norm(const struct tokenizer *tok, const char *s, size_t len)
{
    const char *ctl[3];
    size_t ctl_len[3], n_ctl = 0;
    int32_t ids[3] = {tokenizer_bos(tok), tokenizer_eos(tok), tokenizer_unk(tok)};
    for (int i = 0; i < 3; i++) {
        size_t l = 0;
        const char *t = ids[i] >= 0 ? tokenizer_id_to_token(tok, ids[i], &l) : NULL;
        if (t && l > 0) {
            ctl[n_ctl] = t;
            ctl_len[n_ctl++] = l;
        }
    }
    char *out = xmalloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t skip = 0;
        for (size_t c = 0; c < n_ctl && skip == 0; c++)
            if (ctl_len[c] <= len - i && memcmp(s + i, ctl[c], ctl_len[c]) == 0)
                skip = ctl_len[c];
        if (skip == 0 && strchr(" \t\n\r\v\f", s[i]) && s[i] != '\0')
            skip = 1;
        if (skip == 0 && len - i >= 3 && memcmp(s + i, "\xEF\xBF\xBD", 3) == 0)
            skip = 3;
        if (skip) {
            i += skip;
        } else {
            out[o++] = s[i++];
        }
    }
    out[o] = '\0';
    return out;
}

char *endpoint_ids_norm(const struct tokenizer *tok, const int32_t *ids, size_t n)
{
    struct strbuf sb;
    strbuf_init(&sb, 0);
    struct ge_error e;
    ge_error_clear(&e);
    char *out = NULL;
    if (tokenizer_decode(tok, ids, n, &sb, &e) == GE_OK)
        out = endpoint_echo_norm(tok, sb.data ? sb.data : "", sb.len);
    strbuf_release(&sb);
    return out;
}

char *endpoint_choice_echo_norm(const struct tokenizer *tok, const struct endpoint_choice *ch, size_t n_gen)
{
    size_t len = strlen(ch->text);
    for (size_t g = 0; g < n_gen && ch->tokens && g < ch->n_tokens; g++) {
        const char *t = ch->tokens[ch->n_tokens - 1 - g];
        size_t tl = strlen(t);
        if (tl <= len && memcmp(ch->text + len - tl, t, tl) == 0)
            len -= tl;
    }
    return endpoint_echo_norm(tok, ch->text, len);
}
