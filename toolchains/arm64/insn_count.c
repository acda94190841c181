/*
 * Guest instruction counter for qemu-user 7.2 (TCG plugin API version 1).
 *
 * Why our own: Debian's qemu-user ships the plugin loader but neither the example plugins nor
 * qemu-plugin.h, and the ARM cost figures (benchmarks/arm) need a count that does not depend on
 * how loaded the host is. Each translated block gets an inline add of its instruction count, so
 * the total is every guest instruction executed. With one guest thread it is reproducible; with
 * several the non-atomic add may lose a few counts, so the runner counts with one thread.
 *
 * Per-inference counts: the guest marks points of interest with lseek(MARK_FD, k, 0), a call
 * on a file descriptor that cannot exist (it fails with EBADF and has no effect); at each one the
 * plugin prints "mark k: N", N the instructions executed so far. The difference between two marks
 * around an invoke is that invoke's count, without Python's start-up, imports and model load.
 *
 * The header is not shipped, so the handful of API declarations we use are written out here with
 * the exact types of qemu 7.2's include/qemu/qemu-plugin.h.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stddef.h>

#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))
#define QEMU_PLUGIN_VERSION 1

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;

enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };

typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_syscall_cb_t)(qemu_plugin_id_t id, unsigned int vcpu_index,
                                              int64_t num, uint64_t a1, uint64_t a2, uint64_t a3,
                                              uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7,
                                              uint64_t a8);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
                                              void *ptr, uint64_t imm);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
void qemu_plugin_register_vcpu_syscall_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_syscall_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
void qemu_plugin_outs(const char *string);

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

/* aarch64 Linux's lseek, and the descriptor the guest's marks use (runner: MARK_FD). */
#define SYS_LSEEK 62
#define MARK_FD ((uint64_t)(int64_t)-4242)

static uint64_t insns;

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &insns,
                                             qemu_plugin_tb_n_insns(tb));
}

static void on_syscall(qemu_plugin_id_t id, unsigned int vcpu, int64_t num, uint64_t a1,
                       uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6,
                       uint64_t a7, uint64_t a8)
{
    char line[96];
    (void)id; (void)vcpu; (void)a3; (void)a4; (void)a5; (void)a6; (void)a7; (void)a8;
    if (num != SYS_LSEEK || a1 != MARK_FD) {
        return;
    }
    snprintf(line, sizeof line, "mark %" PRIu64 ": %" PRIu64 "\n", a2, insns);
    qemu_plugin_outs(line);
}

static void report(qemu_plugin_id_t id, void *userdata)
{
    char line[64];
    (void)id;
    (void)userdata;
    snprintf(line, sizeof line, "insns: %" PRIu64 "\n", insns);
    qemu_plugin_outs(line);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv)
{
    (void)info;
    (void)argc;
    (void)argv;
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_vcpu_syscall_cb(id, on_syscall);
    qemu_plugin_register_atexit_cb(id, report, NULL);
    return 0;
}
