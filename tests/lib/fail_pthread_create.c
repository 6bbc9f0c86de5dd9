/*
 * LD_PRELOAD shim for tests: with FAIL_PTHREAD_CREATE_AT=N in the environment,
 * the N-th pthread_create() of the process (1-based) and every later one fail
 * with EAGAIN, as they do when the process hits its thread limit.
 * Built by the test that uses it: cc -shared -fPIC -o x.so this.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    static atomic_int calls;
    const char *at = getenv("FAIL_PTHREAD_CREATE_AT");
    int n = atomic_fetch_add(&calls, 1) + 1;
    if (at && atoi(at) > 0 && n >= atoi(at))
        return EAGAIN;
    create_fn real = (create_fn)dlsym(RTLD_NEXT, "pthread_create");
    return real(th, attr, fn, arg);
}
