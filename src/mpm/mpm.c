/* What the parent and the three child loops share: the MPM's names and the signal set
 * they read through a signalfd. Apart from parent.c so that the children do not depend on
 * the parent that starts them. */
#include "mpm.h"

const char *pt_mpm_name(pt_mpm_kind_t k)
{
    switch (k) {
    case PT_MPM_WORKER: return "worker";
    case PT_MPM_PREFORK: return "prefork";
    default: return "event";
    }
}

void pt_mpm_signals(sigset_t *set, bool with_chld)
{
    sigemptyset(set);
    int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGWINCH};
    for (size_t i = 0; i < PT_ARRAY_LEN(sigs); i++)
        sigaddset(set, sigs[i]);
    if (with_chld)
        sigaddset(set, SIGCHLD);
}
