/* data_sources.c — the download table of `glam-eval data fetch` (see data_sources.h).
 *
 * Dataset ids are the ones lm-evaluation-harness loads (../shared/data/README.md, "canonical HF id / config"), so
 * a fetched file has the schema the task modules read. Release files are pinned to the commit that
 * ../shared/data was built from and carry the SHA-256 recorded in its SHA256SUMS, so a fetched file is
 * byte-identical to the shared copy. Where a fetched split differs from the shared copy in extent (the shared
 * copy of some datasets is partial; SuperGLUE train is FewGLUE's 32 examples there), the note says so.
 *
 * The dataset viewer does not serve datasets that are built by a loading script (huggingface/dataset-viewer
 * issue #2385: "we don't plan to support script-based datasets"); such a fetch fails with the server's own
 * message, which data fetch prints. */
#include "config.h"

#include <string.h>

#include "tasks/data_sources.h"

#define ROWS(t, s, d, c, h, n) {.task = t, .split = s, .kind = DATA_SOURCE_ROWS, .dataset = d, .config = c, \
                                .hf_split = h, .note = n}
#define FILE_(t, s, u, sha, n) {.task = t, .split = s, .kind = DATA_SOURCE_FILE, .url = u, .sha256 = sha, .note = n}
#define NONE(t, s, n) {.task = t, .split = s, .kind = DATA_SOURCE_NONE, .note = n}

#define SUPERGLUE_TRAIN_NOTE "the full SuperGLUE train split (the shared copy holds FewGLUE's 32-example subset)"
#define GH "https://raw.githubusercontent.com/"
#define RACE_NOTE "not downloadable here: EleutherAI/race, which lm-eval loads, holds only the high test split " \
                  "grouped by article and is built by a loading script the dataset viewer does not serve. Get " \
                  "RACE.tar.gz from https://www.cs.cmu.edu/~glai1/data/race/ and unpack it into the data " \
                  "directory (DIR/RACE/test/high, ...): the task reads the official folders directly " \
                  "(docs/data-formats.md)"

const struct data_source data_sources[] = {
    ROWS("triviaqa", "validation", "mandarjoshi/trivia_qa", "rc.nocontext", "validation",
         "the full dev set (11,313 questions; the shared copy is a 3,000-question subset)"),
    FILE_("nq_open", "validation", GH "google-research-datasets/natural-questions/"
          "fb26a3073b1fe636c97302890a27b491d6530130/nq_open/NQ-open.dev.jsonl",
          "f15567f38099f3615f5b8a685c0aef449c11ad90d3da3735e8d1b98115b40616", NULL),
    FILE_("nq_open", "train_pool", GH "google-research-datasets/natural-questions/"
          "fb26a3073b1fe636c97302890a27b491d6530130/nq_open/NQ-open.efficientqa.dev.1.1.jsonl",
          "0ad45e2fa9fd32d10b3cf08c63e6d22f97ba1a0ce44ea98040f4c18bce7e268d",
          "EfficientQA dev 1.1, the few-shot pool standing in for NQ-open train (as in ../shared/data)"),
    ROWS("webqs", "test", "stanfordnlp/web_questions", "default", "test", NULL),
    ROWS("webqs", "train", "stanfordnlp/web_questions", "default", "train", NULL),
    FILE_("lambada", "test", "https://openaipublic.blob.core.windows.net/gpt-2/data/lambada_test.jsonl",
          "4aa8d02cd17c719165fc8a7887fddd641f43fcafa4b1c806ca8abc31fabdb226",
          "OpenAI's LAMBADA test file, the data of EleutherAI/lambada_openai (default)"),
    ROWS("hellaswag", "validation", "Rowan/hellaswag", "default", "validation",
         "the real HF fields (ctx_b, ind, WikiHow markers), unlike the reconstructed shared copy"),
    NONE("storycloze", "test", "not redistributable: request StoryCloze 2016 with the form at "
         "https://cs.rochester.edu/nlp/rocstories/ (the LSDSem/story_cloze dataset on the Hub also needs the "
         "files from that form), then put the CSV you receive at DIR/storycloze/cloze_test_test__spring2016.csv "
         "(the task reads it directly, docs/data-formats.md) or convert it to JSONL in the LSDSem/story_cloze "
         "2016 schema (story_id, input_sentence_1..4, sentence_quiz1, sentence_quiz2, answer_right_ending)"),
    NONE("storycloze", "validation", "not redistributable: see the test split (the form's "
         "cloze_test_val__spring2016 CSV, at DIR/storycloze/cloze_test_val__spring2016.csv)"),
    ROWS("wsc273", "test", "lighteval/winograd_wsc", "wsc273", "test", NULL),
    ROWS("winogrande", "validation", "allenai/winogrande", "winogrande_xl", "validation", NULL),
    ROWS("drop", "validation", "EleutherAI/drop", "default", "validation",
         "the full dev set; EleutherAI/drop is built by a loading script, which the dataset viewer may refuse"),
    ROWS("coqa", "validation", "EleutherAI/coqa", "default", "validation",
         "EleutherAI/coqa is built by a loading script, which the dataset viewer may refuse"),
    FILE_("quac", "quac", GH "mosaicml/llm-foundry/b45551e1280c1bdec917ee7a7b0220c2b4eb41b5/"
          "scripts/eval/local_data/free_response/quac.jsonl",
          "e10582b7c8d130c9f750346b74f6a989ad420c91f5796b6b87ad839133e8a577",
          "llm-foundry's prompt-formatted QuAC sample (the task reads this file, not the allenai/quac schema)"),
    ROWS("squad_v2", "validation", "rajpurkar/squad_v2", "squad_v2", "validation", NULL),
    NONE("race_middle", "test", RACE_NOTE),
    NONE("race_middle", "train", RACE_NOTE),
    NONE("race_high", "test", RACE_NOTE),
    NONE("race_high", "train", RACE_NOTE),
    ROWS("piqa", "validation", "baber/piqa", "default", "validation", NULL),
    ROWS("arc_easy", "test", "allenai/ai2_arc", "ARC-Easy", "test", NULL),
    ROWS("arc_easy", "validation", "allenai/ai2_arc", "ARC-Easy", "validation", NULL),
    ROWS("arc_challenge", "test", "allenai/ai2_arc", "ARC-Challenge", "test", NULL),
    ROWS("arc_challenge", "validation", "allenai/ai2_arc", "ARC-Challenge", "validation", NULL),
    ROWS("openbookqa", "test", "allenai/openbookqa", "main", "test", NULL),
    ROWS("openbookqa", "validation", "allenai/openbookqa", "main", "validation", NULL),
    ROWS("boolq", "validation", "aps/super_glue", "boolq", "validation", NULL),
    ROWS("boolq", "train", "aps/super_glue", "boolq", "train", SUPERGLUE_TRAIN_NOTE),
    ROWS("copa", "validation", "aps/super_glue", "copa", "validation", NULL),
    ROWS("copa", "train", "aps/super_glue", "copa", "train", SUPERGLUE_TRAIN_NOTE),
    ROWS("rte", "validation", "aps/super_glue", "rte", "validation", NULL),
    ROWS("rte", "train", "aps/super_glue", "rte", "train", SUPERGLUE_TRAIN_NOTE),
    ROWS("wic", "validation", "aps/super_glue", "wic", "validation", NULL),
    ROWS("wic", "train", "aps/super_glue", "wic", "train", SUPERGLUE_TRAIN_NOTE),
    ROWS("multirc", "validation", "aps/super_glue", "multirc", "validation", NULL),
    ROWS("multirc", "train", "aps/super_glue", "multirc", "train", SUPERGLUE_TRAIN_NOTE),
    ROWS("wsc", "validation", "aps/super_glue", "wsc.fixed", "validation", NULL),
    ROWS("wsc", "train", "aps/super_glue", "wsc.fixed", "train", SUPERGLUE_TRAIN_NOTE),
    ROWS("record", "validation", "aps/super_glue", "record", "validation", "GLaM's split (10,000 queries)"),
    ROWS("record", "train", "aps/super_glue", "record", "train", SUPERGLUE_TRAIN_NOTE " (100,730 queries)"),
    ROWS("cb", "validation", "aps/super_glue", "cb", "validation", NULL),
    ROWS("cb", "train", "aps/super_glue", "cb", "train", SUPERGLUE_TRAIN_NOTE),
    ROWS("anli_r1", "test_r1", "facebook/anli", "plain_text", "test_r1", NULL),
    ROWS("anli_r1", "train_r1", "facebook/anli", "plain_text", "train_r1", NULL),
    ROWS("anli_r2", "test_r2", "facebook/anli", "plain_text", "test_r2", NULL),
    ROWS("anli_r2", "train_r2", "facebook/anli", "plain_text", "train_r2", NULL),
    ROWS("anli_r3", "test_r3", "facebook/anli", "plain_text", "test_r3", NULL),
    ROWS("anli_r3", "train_r3", "facebook/anli", "plain_text", "train_r3", NULL),
    FILE_("gsm8k", "test", GH "openai/grade-school-math/3101c7d5072418e28b9008a6636bde82a006892c/"
          "grade_school_math/data/test.jsonl",
          "3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14",
          "the official release file, the data of openai/gsm8k (main)"),
    FILE_("gsm8k", "train", GH "openai/grade-school-math/3101c7d5072418e28b9008a6636bde82a006892c/"
          "grade_school_math/data/train.jsonl",
          "17f347dc51477c50d4efb83959dbb7c56297aba886e5544ee2aaed3024813465",
          "the official release file, the data of openai/gsm8k (main)"),
    {.task = NULL},
};

size_t data_sources_for(const char *task, const struct data_source **out, size_t cap)
{
    size_t n = 0;
    for (const struct data_source *s = data_sources; s->task; s++) {
        if (strcmp(s->task, task) != 0)
            continue;
        if (n < cap)
            out[n] = s;
        n++;
    }
    return n;
}

const struct data_source *data_source_find(const char *task, const char *split)
{
    for (const struct data_source *s = data_sources; s->task; s++)
        if (strcmp(s->task, task) == 0 && strcmp(s->split, split) == 0)
            return s;
    return NULL;
}

const char *data_source_kind_name(enum data_source_kind kind)
{
    return kind == DATA_SOURCE_ROWS ? "rows" : kind == DATA_SOURCE_FILE ? "file" : "none";
}
