/* fuzz_release.h — fuzz entry points of the official release readers (tests/fuzz/fuzz_release.c; the contract is
 * fuzz.h's: parse one input as glam-eval would, abort() when an invariant breaks, return the reader's status).
 * tests/test_release_formats runs them over truncations and byte flips of its fixtures; with libFuzzer, build
 * fuzz_release.c as tests/fuzz/README.md shows for the others (an input starting with "," is fed to the CSV
 * reader without that byte, any other to the XML reader). Test-only code. */
#ifndef GE_TEST_FUZZ_RELEASE_H
#define GE_TEST_FUZZ_RELEASE_H

#include <stddef.h>
#include <stdint.h>

int fuzz_wsc_xml_input(const uint8_t *data, size_t size);
int fuzz_storycloze_csv_input(const uint8_t *data, size_t size);

#endif
