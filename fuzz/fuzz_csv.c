/* fuzz_csv.c — the CSV data-set reader (data_parse_csv) on arbitrary bytes.
 * Invariants: no crash, no sanitizer report; a success has n >= 1 rows and
 * d >= 1 named columns of finite numbers; a failure has a one-line message. */
#include <math.h>

#include "data/dataset.h"
#include "fuzz_util.h"

int fuzz_csv_one(const uint8_t *data, size_t size)
{
    bdrl_err e;
    e.msg[0] = '\0';
    data_set *ds = data_parse_csv((const char *)data, size, "fuzz.csv", &e);
    if (!ds) {
        fuzz_check_message(&e);
        return 0;
    }
    FUZZ_CHECK(ds->n >= 1 && ds->d >= 1, "%zu x %zu", ds->n, ds->d);
    FUZZ_CHECK(ds->names != NULL, "no column names");
    for (size_t j = 0; j < ds->d; j++)
        FUZZ_CHECK(ds->names[j] && ds->names[j][0], "column %zu has no name", j);
    for (size_t i = 0; i < ds->n * ds->d; i++)
        FUZZ_CHECK(isfinite(ds->x[i]), "value %zu is not finite", i);
    data_free(ds);
    return 0;
}

#ifdef BDRL_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_csv_one(data, size); }
#endif
