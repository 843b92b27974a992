/* A qemu-user TCG plugin: guest instructions per function (the symbol of each translation
 * block's first instruction), printed at exit as "sym COUNT NAME" lines (the 200 largest) and
 * "symtotal N". Used by scripts/a64-profile.sh; built against qemu-plugin.h as
 * ../shared/tools/aarch64-cost/build-plugin.sh fetches it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include "qemu-plugin.h"
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;
#define MAXS 65536
static struct { const char *name; uint64_t count; } syms[MAXS];
static int nsyms;
static int find(const char *name) {
    for (int i = 0; i < nsyms; i++) if (syms[i].name == name || (name && syms[i].name && !strcmp(syms[i].name, name))) return i;
    if (nsyms >= MAXS) return 0;
    syms[nsyms].name = name ? strdup(name) : "?";
    return nsyms++;
}
static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, 0);
    const char *s = qemu_plugin_insn_symbol(insn);
    pthread_mutex_lock(&lock);
    int i = find(s ? s : "?");
    pthread_mutex_unlock(&lock);
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &syms[i].count, qemu_plugin_tb_n_insns(tb));
}
static int cmp(const void *a, const void *b) {
    uint64_t x = ((typeof(syms[0]) *)a)->count, y = ((typeof(syms[0]) *)b)->count;
    return x < y ? 1 : x > y ? -1 : 0;
}
static void at_exit(qemu_plugin_id_t id, void *p) {
    uint64_t total = 0;
    for (int i = 0; i < nsyms; i++) total += syms[i].count;
    fprintf(stderr, "symtotal %" PRIu64 " nsyms %d\n", total, nsyms);
    qsort(syms, nsyms, sizeof(syms[0]), cmp);
    for (int i = 0; i < nsyms && i < 200; i++) fprintf(stderr, "sym %12" PRIu64 " %s\n", syms[i].count, syms[i].name);
}
QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv) {
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
