#include <string.h>
#include <unistd.h>
#include <math.h>
#include <stdlib.h>

static int _compare_ints(const void *, const void *);
