/* The PROCMAP_QUERY user-space API of Linux 6.11 (include/uapi/linux/fs.h),
   for building against older kernel header sets. Only used when <linux/fs.h>
   does not define PROCMAP_QUERY. The ABI is the kernel's: do not change it. */
#ifndef PROCMAP_QUERY_UAPI_H
#define PROCMAP_QUERY_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#ifndef PROCFS_IOCTL_MAGIC
#define PROCFS_IOCTL_MAGIC 'f'
#endif

enum procmap_query_flags {
    PROCMAP_QUERY_VMA_READABLE = 0x01,
    PROCMAP_QUERY_VMA_WRITABLE = 0x02,
    PROCMAP_QUERY_VMA_EXECUTABLE = 0x04,
    PROCMAP_QUERY_VMA_SHARED = 0x08,
    PROCMAP_QUERY_COVERING_OR_NEXT_VMA = 0x10,
    PROCMAP_QUERY_FILE_BACKED_VMA = 0x20,
};

struct procmap_query {
    __u64 size;            /* in: sizeof(struct procmap_query) */
    __u64 query_flags;     /* in: enum procmap_query_flags */
    __u64 query_addr;      /* in */
    __u64 vma_start;       /* out */
    __u64 vma_end;         /* out */
    __u64 vma_flags;       /* out: PROCMAP_QUERY_VMA_* */
    __u64 vma_page_size;   /* out */
    __u64 vma_offset;      /* out */
    __u64 inode;           /* out */
    __u32 dev_major;       /* out */
    __u32 dev_minor;       /* out */
    __u32 vma_name_size;   /* in/out */
    __u32 build_id_size;   /* in/out */
    __u64 vma_name_addr;   /* in */
    __u64 build_id_addr;   /* in */
};

#define PROCMAP_QUERY _IOWR(PROCFS_IOCTL_MAGIC, 17, struct procmap_query)

#endif
