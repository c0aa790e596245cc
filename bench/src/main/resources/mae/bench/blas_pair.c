/*
 * The JNI side of mae.bench.Blas: a CBLAS library (OpenBLAS) opened with dlopen, its sgemm called on the JVM's own
 * float arrays, so that `bin/mae bench gemm --against-blas` can time it call by call against the engine's GEMM in one
 * process. Compiled on first use by Blas.java with the machine's C compiler; needs only jni.h and libdl. The library
 * is found at run time, not linked: no BLAS headers or link-time library needed.
 */
#include <jni.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

typedef void (*sgemm_fn)(int order, int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                         const float *B, int ldb, float beta, float *C, int ldc);
typedef void (*set_threads_fn)(int);
typedef char *(*name_fn)(void);

static sgemm_fn sgemm;

enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };   /* CBLAS's enum values */

static void fail(JNIEnv *env, const char *what, const char *detail) {
    char msg[1024];
    snprintf(msg, sizeof msg, "--against-blas: %s: %s", what, detail ? detail : "(no detail)");
    (*env)->ThrowNew(env, (*env)->FindClass(env, "java/lang/IllegalArgumentException"), msg);
}

/*
 * Opens the library, sets its thread count (openblas_set_num_threads, where it has one) and returns what it says of
 * itself ("OpenBLAS 0.3.21 ... | core Cooperlake"), or "" for a CBLAS that is not OpenBLAS. OPENBLAS_THREAD_TIMEOUT,
 * unless already set, becomes 4 before the library reads it: its idle threads then sleep after 2^4 cycles instead of
 * polling for 2^28, which could take the cores from the engine's next call (a precaution: Blas.java says more).
 */
JNIEXPORT jstring JNICALL Java_mae_bench_Blas_open0(JNIEnv *env, jclass cls, jstring path, jint threads) {
    const char *p = (*env)->GetStringUTFChars(env, path, NULL);
    if (!p) return NULL;
    setenv("OPENBLAS_THREAD_TIMEOUT", "4", 0);
    void *h = dlopen(p, RTLD_NOW | RTLD_LOCAL);
    if (!h) { fail(env, p, dlerror()); (*env)->ReleaseStringUTFChars(env, path, p); return NULL; }
    sgemm = (sgemm_fn) dlsym(h, "cblas_sgemm");
    if (!sgemm) { fail(env, p, "has no cblas_sgemm (not a CBLAS library)"); (*env)->ReleaseStringUTFChars(env, path, p); return NULL; }
    (*env)->ReleaseStringUTFChars(env, path, p);
    set_threads_fn set = (set_threads_fn) dlsym(h, "openblas_set_num_threads");
    if (set) set(threads);
    name_fn config = (name_fn) dlsym(h, "openblas_get_config"), core = (name_fn) dlsym(h, "openblas_get_corename");
    char out[512] = "";
    if (config) snprintf(out, sizeof out, "%s | core %s", config(), core ? core() : "?");
    return (*env)->NewStringUTF(env, out);
}

/* C (M, N) = alpha op(A) op(B) + beta C on row-major arrays; Blas.sgemm has checked every index against the arrays. */
JNIEXPORT void JNICALL Java_mae_bench_Blas_sgemm0(JNIEnv *env, jclass cls, jboolean ta, jboolean tb, jint M, jint N, jint K,
                                                 jfloat alpha, jfloatArray A, jint lda, jfloatArray B, jint ldb, jfloat beta,
                                                 jfloatArray C, jint ldc) {
    float *a = (*env)->GetPrimitiveArrayCritical(env, A, NULL);
    float *b = (*env)->GetPrimitiveArrayCritical(env, B, NULL);
    float *c = (*env)->GetPrimitiveArrayCritical(env, C, NULL);
    if (a && b && c) sgemm(ROW_MAJOR, ta ? TRANS : NO_TRANS, tb ? TRANS : NO_TRANS, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
    if (c) (*env)->ReleasePrimitiveArrayCritical(env, C, c, 0);
    if (b) (*env)->ReleasePrimitiveArrayCritical(env, B, b, JNI_ABORT);
    if (a) (*env)->ReleasePrimitiveArrayCritical(env, A, a, JNI_ABORT);
}
