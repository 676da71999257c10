/*
 * detect.c: the resources of this machine, for an agent started without --resources. As Mesos
 * does: every online core, the physical memory less 1 GiB kept for the system (half of it on a
 * machine with less than 2 GiB), the work directory's filesystem less 5 GiB (half of it below
 * 10 GiB), and the ports 31000-32000; mesos-local splits all of it between its agents.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "slave/agent_int.h"

#define GIB (UINT64_C(1) << 30)

/* What is left for tasks once `reserve` is kept back, or half when the total is below `floor`. */
static uint64_t after_reserve(uint64_t total, uint64_t reserve, uint64_t floor)
{
    return total >= floor ? total - reserve : total / 2;
}

char *agent_detect_resources(const char *work_dir)
{
    return agent_detect_resources_share(work_dir, 0, 1);
}

char *agent_detect_resources_share(const char *work_dir, unsigned index, unsigned count)
{
    if (count == 0 || index >= count)
        return NULL;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    uint64_t mem = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : GIB;
    uint64_t disk = 10 * GIB;
    struct statvfs fs;
    /* The work directory may not exist yet: its nearest existing parent is on the same
     * filesystem (until a mount point in between says otherwise, which we accept). */
    char path[4096];
    snprintf(path, sizeof(path), "%s", work_dir != NULL ? work_dir : "/");
    while (statvfs(path, &fs) != 0) {
        char *slash = strrchr(path, '/');
        if (slash == NULL || slash == path) {
            snprintf(path, sizeof(path), "/");
            if (statvfs(path, &fs) != 0)
                fs.f_blocks = 0;
            break;
        }
        *slash = '\0';
    }
    if (fs.f_blocks > 0)
        disk = (uint64_t)fs.f_blocks * fs.f_frsize;
    /* Each of `count` agents gets an equal share, and its own slice of the port range so that
     * two agents on one host never offer the same port. */
    unsigned ports = 1001 / count, first = 31000 + index * ports;
    char *text = NULL;
    if (asprintf(&text, "cpus:%.2f;mem:%llu;disk:%llu;ports:[%u-%u]",
                 (double)(cores > 0 ? cores : 1) / count,
                 (unsigned long long)((after_reserve(mem, GIB, 2 * GIB) >> 20) / count),
                 (unsigned long long)((after_reserve(disk, 5 * GIB, 10 * GIB) >> 20) / count),
                 first, first + ports - 1) < 0)
        return NULL;
    return text;
}
