#include <sys/sysinfo.h>
#include <unistd.h>
