/* cmd_version.c — `glam-eval version`: the program version and the library versions it runs with, so a result
 * can be traced to the exact build that produced it. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include <cblas.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <sqlite3.h>
#include <zlib.h>
#include <zstd.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "harness/cli.h"
#include "harness/commands.h"
#include "harness/utf8.h"

static int version_run(int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'h')
            return cli_help(&cmd_version);
        return cli_option_error(&cmd_version, c, argv);
    }
    if (optind < argc)
        return cli_usage_error(&cmd_version, "unexpected argument '%s'", argv[optind]);
    char pcre[64] = "";
    pcre2_config(PCRE2_CONFIG_VERSION, pcre);
    printf("%s\n", PACKAGE_STRING);
    printf("sqlite %s\n", sqlite3_libversion());
    printf("libcurl %s\n", curl_version_info(CURLVERSION_NOW)->version);
    printf("cjson %s\n", cJSON_Version());
    printf("pcre2 %s\n", pcre);
    printf("openblas %s\n", openblas_get_config());
    printf("zlib %s\n", zlibVersion());
    printf("zstd %s\n", ZSTD_versionString());
    printf("libmicrohttpd %s\n", MHD_get_version());
    printf("unicode %s (tables from Python unicodedata)\n", unicode_version());
    return CLI_EXIT_OK;
}

const struct command cmd_version = {
    .name = "version",
    .summary = "print the version of glam-eval and of the libraries it uses",
    .usage = "usage: glam-eval version\n\n"
             "Prints glam-eval's version and the versions of SQLite, libcurl, cJSON, PCRE2, OpenBLAS, zlib, zstd\n"
             "and libmicrohttpd in use,\n"
             "and whether the Unicode tables used by answer normalisation are available.\n",
    .run = version_run,
};
