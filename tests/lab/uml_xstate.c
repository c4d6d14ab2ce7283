/*
 * LD_PRELOAD shim for linux.uml: full-size XSAVE state over ptrace.
 *
 * Debian 12's User-Mode Linux (6.1) saves and restores its processes'
 * FPU state with PTRACE_GETREGSET/SETREGSET NT_X86_XSTATE and a fixed
 * buffer of a few hundred bytes. A host whose CPU has AVX-512 or AMX has
 * a larger XSAVE area (11008 bytes with AMX), and its kernel refuses a
 * SETREGSET of any other size with EFAULT: every guest then dies at its
 * first process ("ptrace set fp regs failed, errno = 14").
 *
 * This shim keeps, for each of UML's register buffers (one per UML
 * thread, at a stable address), a full-size copy of the state. A GET
 * fills the copy and hands UML its usual prefix; a SET lays UML's prefix
 * (which it may have changed: signals, exec) over the copy and sets the
 * whole. The state UML does not know of (AVX-512, AMX) is thus kept per
 * UML thread too. Where the host's size is what UML asks for, every call
 * passes through untouched.
 *
 * Built by tools/lab-install.sh; the lab harness preloads it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

#define PROBE_SIZE 65536
#define TABLE_SIZE 8192 /* power of two, open addressing */

struct shadow {
    void *key;      /* UML's buffer */
    void *state;    /* full-size copy, 64-byte aligned */
};

typedef long (*ptrace_fn)(int, pid_t, void *, void *);

static ptrace_fn real_ptrace;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static size_t full_size;
static struct shadow table[TABLE_SIZE];
static size_t used;

static long call_real(int request, pid_t pid, void *addr, void *data)
{
    if (!real_ptrace)
        real_ptrace = (ptrace_fn)dlsym(RTLD_NEXT, "ptrace");
    return real_ptrace(request, pid, addr, data);
}

/* The host's XSAVE size, read once from the first traced process. */
static size_t host_size(pid_t pid)
{
    static unsigned char probe[PROBE_SIZE] __attribute__((aligned(64)));
    struct iovec iov = { probe, sizeof(probe) };

    if (!full_size &&
        call_real(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, &iov) == 0)
        full_size = iov.iov_len;
    return full_size;
}

/* The full-size copy kept for UML's buffer ``key`` (NULL if the table is
 * full: the caller then starts from the process's current state). */
static void *shadow_of(void *key, int *fresh)
{
    size_t i = ((uintptr_t)key >> 4) & (TABLE_SIZE - 1);

    *fresh = 0;
    for (;;) {
        if (table[i].key == key)
            return table[i].state;
        if (!table[i].key)
            break;
        i = (i + 1) & (TABLE_SIZE - 1);
    }
    if (used >= TABLE_SIZE * 3 / 4)
        return NULL;
    if (posix_memalign(&table[i].state, 64, full_size))
        return NULL;
    table[i].key = key;
    used++;
    *fresh = 1;
    return table[i].state;
}

static long xstate_get(pid_t pid, struct iovec *iov)
{
    int fresh;
    void *state = shadow_of(iov->iov_base, &fresh);
    struct iovec whole = { state, full_size };
    long ret;

    if (!state)
        return call_real(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, iov);
    ret = call_real(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, &whole);
    if (ret == 0)
        memcpy(iov->iov_base, state, iov->iov_len);
    return ret;
}

static long xstate_set(pid_t pid, struct iovec *iov)
{
    static unsigned char scratch[PROBE_SIZE] __attribute__((aligned(64)));
    int fresh;
    void *state = shadow_of(iov->iov_base, &fresh);
    struct iovec whole;
    long ret;

    if (!state || fresh) {
        /* No copy yet (a buffer UML filled by memcpy, e.g. at fork or
         * exec): start from the process's own current state. */
        void *base = state ? state : scratch;

        whole.iov_base = base;
        whole.iov_len = full_size;
        ret = call_real(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, &whole);
        if (ret != 0)
            return ret;
        state = base;
    }
    memcpy(state, iov->iov_base, iov->iov_len);
    whole.iov_base = state;
    whole.iov_len = full_size;
    return call_real(PTRACE_SETREGSET, pid, (void *)NT_X86_XSTATE, &whole);
}

long ptrace(enum __ptrace_request request, ...)
{
    va_list ap;
    pid_t pid;
    void *addr, *data;
    long ret;

    va_start(ap, request);
    pid = va_arg(ap, pid_t);
    addr = va_arg(ap, void *);
    data = va_arg(ap, void *);
    va_end(ap);

    if ((request == PTRACE_GETREGSET || request == PTRACE_SETREGSET) &&
        (uintptr_t)addr == NT_X86_XSTATE && data) {
        struct iovec *iov = data;

        pthread_mutex_lock(&lock);
        if (host_size(pid) > iov->iov_len) {
            ret = request == PTRACE_GETREGSET ? xstate_get(pid, iov)
                                              : xstate_set(pid, iov);
            pthread_mutex_unlock(&lock);
            return ret;
        }
        pthread_mutex_unlock(&lock);
    }
    return call_real(request, pid, addr, data);
}
