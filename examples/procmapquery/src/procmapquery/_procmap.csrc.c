/* The C side: the kernel's own header. Header sets older than Linux 6.11
   lack PROCMAP_QUERY; the UAPI declaration shipped beside this file fills in. */
#include <linux/fs.h>
#ifndef PROCMAP_QUERY
#include "procmap_query_uapi.h"
#endif
