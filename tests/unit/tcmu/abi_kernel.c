/* The kernel's TCMU layout, measured in C (the uapi header is not valid C++), for abi_test. */
#include <stddef.h>

#if defined(__has_include)
#if __has_include(<linux/target_core_user.h>)
#include <linux/target_core_user.h>
#define HAVE_TCMU_HEADER 1
#endif
#endif

#ifdef HAVE_TCMU_HEADER
const int uiscsi_kernel_tcmu_present = 1;
const size_t uiscsi_kernel_tcmu_layout[] = {
    TCMU_MAILBOX_VERSION,
    TCMU_MAILBOX_FLAG_CAP_OOOC,
    TCMU_MAILBOX_FLAG_CAP_READ_LEN,
    TCMU_MAILBOX_FLAG_CAP_TMR,
    offsetof(struct tcmu_mailbox, cmdr_off),
    offsetof(struct tcmu_mailbox, cmd_head),
    offsetof(struct tcmu_mailbox, cmd_tail),
    sizeof(struct tcmu_cmd_entry),
    offsetof(struct tcmu_cmd_entry, req.iov_cnt),
    offsetof(struct tcmu_cmd_entry, req.iov_bidi_cnt),
    offsetof(struct tcmu_cmd_entry, req.cdb_off),
    offsetof(struct tcmu_cmd_entry, req.iov),
    offsetof(struct tcmu_cmd_entry, rsp.scsi_status),
    offsetof(struct tcmu_cmd_entry, rsp.read_len),
    offsetof(struct tcmu_cmd_entry, rsp.sense_buffer),
    sizeof(struct tcmu_tmr_entry),
    offsetof(struct tcmu_tmr_entry, cmd_cnt),
    TCMU_SENSE_BUFFERSIZE,
    TCMU_UFLAG_READ_LEN,
    TCMU_OP_ALIGN_SIZE,
    TCMU_TMR_LUN_RESET,
};
#else
const int uiscsi_kernel_tcmu_present = 0;
const size_t uiscsi_kernel_tcmu_layout[21] = {0};
#endif
