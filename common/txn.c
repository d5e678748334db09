/* Kafka transactions shared by classify and produce --group: the calls
 * in slices, the error classes, the abort sequence and the rebuild. The
 * why of each step is in common/txn.h and at the top of
 * consumer/classify_loop.c. */
#include "common/txn.h"

#include "common/date.h"
#include "common/err.h"
#include "common/log.h"
#include "common/sig.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static void nap_ms(int ms)
{
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

        nanosleep(&ts, NULL);
}

int64_t nt_txn_stop_deadline(int64_t *stop_at, int64_t shutdown_ms)
{
        if (nt_sig_running())
                return INT64_MAX;
        if (*stop_at == 0)
                *stop_at = nt_date_mono_ms() + shutdown_ms * 4 / 5;
        return *stop_at;
}

int nt_txn_init(rd_kafka_t *producer, const char *txn_id, int op_ms,
                const char *component, char *errstr, size_t errstr_size)
{
        rd_kafka_error_t *error;
        int64_t warn_at = nt_date_mono_ms() + op_ms;

        for (;;) {
                error = rd_kafka_init_transactions(producer, NT_TXN_SLICE_MS);
                if (!error)
                        return NT_OK;
                if (rd_kafka_error_is_retriable(error) && nt_sig_running() &&
                    rd_kafka_error_code(error) ==
                        RD_KAFKA_RESP_ERR__TIMED_OUT &&
                    nt_date_mono_ms() < warn_at) {
                        rd_kafka_error_destroy(error);
                        continue;
                }
                warn_at = nt_date_mono_ms() + op_ms;
                if (!rd_kafka_error_is_retriable(error) || !nt_sig_running()) {
                        nt_errf(errstr, errstr_size, NT_ERR_KAFKA,
                                "init_transactions (transactional.id %s): %s",
                                txn_id, rd_kafka_error_string(error));
                        rd_kafka_error_destroy(error);
                        return NT_ERR_KAFKA;
                }
                NT_WARN(component, "init_transactions: %s; trying again",
                        rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
        }
}

int nt_txn_begin(rd_kafka_t *producer, const char *component, bool *rebuild)
{
        rd_kafka_error_t *error;

        *rebuild = false;
        if (rd_kafka_fatal_error(producer, NULL, 0)) {
                *rebuild = true;
                return NT_ERR_KAFKA;
        }
        error = rd_kafka_begin_transaction(producer);
        if (error) {
                NT_ERROR(component, "begin_transaction: %s",
                         rd_kafka_error_string(error));
                *rebuild = rd_kafka_error_is_fatal(error) ||
                           rd_kafka_fatal_error(producer, NULL, 0);
                rd_kafka_error_destroy(error);
                return NT_ERR_KAFKA;
        }
        return NT_OK;
}

rd_kafka_error_t *
nt_txn_call_once(rd_kafka_t *producer, enum nt_txn_op op, rd_kafka_t *consumer,
                 const rd_kafka_topic_partition_list_t *offsets, int timeout_ms)
{
        rd_kafka_consumer_group_metadata_t *cgmd;
        rd_kafka_error_t *error;

        switch (op) {
        case NT_TXN_SEND_OFFSETS:
                cgmd = rd_kafka_consumer_group_metadata(consumer);
                error = rd_kafka_send_offsets_to_transaction(producer, offsets,
                                                             cgmd, timeout_ms);
                rd_kafka_consumer_group_metadata_destroy(cgmd);
                return error;
        case NT_TXN_COMMIT:
                return rd_kafka_commit_transaction(producer, timeout_ms);
        default:
                return rd_kafka_abort_transaction(producer, timeout_ms);
        }
}

const char *nt_txn_op_name(enum nt_txn_op op)
{
        return op == NT_TXN_SEND_OFFSETS ? "send_offsets_to_transaction"
               : op == NT_TXN_COMMIT     ? "commit_transaction"
                                         : "abort_transaction";
}

bool nt_txn_call_again(const rd_kafka_error_t *error, int64_t end)
{
        return error && rd_kafka_error_is_retriable(error) &&
               rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR__TIMED_OUT &&
               nt_date_mono_ms() < end;
}

rd_kafka_error_t *nt_txn_call(rd_kafka_t *producer, enum nt_txn_op op,
                              rd_kafka_t *consumer,
                              const rd_kafka_topic_partition_list_t *offsets,
                              int op_ms, int64_t deadline)
{
        int64_t end = nt_date_mono_ms() + op_ms;
        rd_kafka_error_t *error;

        if (deadline < end)
                end = deadline;
        for (;;) {
                int64_t left = end - nt_date_mono_ms();
                int slice = left < NT_TXN_MIN_CALL_MS ? NT_TXN_MIN_CALL_MS
                            : left < NT_TXN_SLICE_MS  ? (int)left
                                                      : NT_TXN_SLICE_MS;

                error =
                    nt_txn_call_once(producer, op, consumer, offsets, slice);
                if (!nt_txn_call_again(error, end))
                        return error;
                rd_kafka_error_destroy(error);
                rd_kafka_poll(producer, 0);
        }
}

enum nt_txn_next nt_txn_judge(const char *component, const char *call,
                              rd_kafka_error_t *error, int tries)
{
        int nap = 0;
        enum nt_txn_next next =
            nt_txn_judge_next(component, call, error, tries, &nap);

        if (nap > 0)
                nap_ms(nap);
        return next;
}

enum nt_txn_next nt_txn_judge_next(const char *component, const char *call,
                                   rd_kafka_error_t *error, int tries, int *nap)
{
        bool running = nt_sig_running();
        bool retry = rd_kafka_error_is_retriable(error) &&
                     tries < NT_TXN_RETRIES && running;
        bool abortable = rd_kafka_error_txn_requires_abort(error);
        bool fatal = rd_kafka_error_is_fatal(error);

        NT_WARN(component, "%s: %s (%s)", call, rd_kafka_error_string(error),
                fatal       ? "fatal"
                : abortable ? "abortable"
                : retry     ? "retriable"
                : !running  ? "stopping"
                            : "unclassified: treated as fatal");
        rd_kafka_error_destroy(error);
        *nap = 0;
        if (retry) {
                *nap = 100 * (tries + 1);
                return NT_TXN_NEXT_RETRY;
        }
        /* Stopping: no time for an abort that waits on the broker nor for
         * a new producer. */
        if (!running && !fatal)
                return NT_TXN_NEXT_LEAVE;
        return abortable ? NT_TXN_NEXT_ABORT : NT_TXN_NEXT_REBUILD;
}

void nt_txn_purge(rd_kafka_t *producer)
{
        rd_kafka_purge(producer, RD_KAFKA_PURGE_F_QUEUE |
                                     RD_KAFKA_PURGE_F_INFLIGHT |
                                     RD_KAFKA_PURGE_F_NON_BLOCKING);
}

int nt_txn_abort(rd_kafka_t *producer, int op_ms, int64_t deadline,
                 const char *component)
{
        rd_kafka_error_t *error = NULL;
        int tries;

        /* abort_transaction() waits until no message is left to report,
         * and with a delivery report callback only polling serves the
         * reports (librdkafka says so in the timeout error): serve them,
         * purge what is queued or in flight, serve those too, and again
         * between tries. */
        rd_kafka_poll(producer, 0);
        nt_txn_purge(producer);
        rd_kafka_poll(producer, 0);
        for (tries = 0; tries < NT_TXN_RETRIES; tries++) {
                error = nt_txn_call(producer, NT_TXN_ABORT, NULL, NULL, op_ms,
                                    deadline);
                if (!error || !rd_kafka_error_is_retriable(error) ||
                    !nt_sig_running())
                        break;
                NT_WARN(component, "abort_transaction: %s; again",
                        rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
                error = NULL;
                rd_kafka_poll(producer, 100);
        }
        if (error) {
                NT_ERROR(component, "abort_transaction: %s",
                         rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
                return NT_ERR_KAFKA;
        }
        return tries == NT_TXN_RETRIES ? NT_ERR_KAFKA : NT_OK;
}

bool nt_txn_fenced_error(rd_kafka_resp_err_t err)
{
        return err == RD_KAFKA_RESP_ERR__FENCED ||
               err == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
               err == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH;
}

size_t nt_txn_fence_note(struct nt_txn_fences *fe, int64_t now_ms)
{
        size_t i, recent = 1;

        for (i = 0; i < fe->n; i++)
                recent += now_ms - fe->at[i] < NT_TXN_FENCE_WINDOW_MS;
        memmove(&fe->at[1], &fe->at[0],
                (NT_TXN_FENCE_LIMIT - 1) * sizeof(fe->at[0]));
        fe->at[0] = now_ms;
        if (fe->n < NT_TXN_FENCE_LIMIT)
                fe->n++;
        return recent;
}

rd_kafka_t *nt_txn_rebuild(rd_kafka_t *old, nt_txn_make_cb *make, void *opaque,
                           const char *txn_id, int op_ms, const char *component,
                           char *errstr, size_t errstr_size)
{
        rd_kafka_t *rk = NULL;

        if (old) {
                nt_txn_purge(old);
                rd_kafka_destroy(old);
        }
        while (!rk) {
                rk = make(opaque, errstr, errstr_size);
                if (!rk)
                        return NULL;
                if (txn_id && nt_txn_init(rk, txn_id, op_ms, component, errstr,
                                          errstr_size) != NT_OK) {
                        rd_kafka_destroy(rk);
                        rk = NULL;
                        if (!nt_sig_running())
                                return NULL;
                        NT_ERROR(component, "%s; trying again", errstr);
                        nap_ms(1000);
                }
        }
        return rk;
}
