/* notify: the systemd notification protocol (sd_notify) over NOTIFY_SOCKET, without libsystemd. */
#ifndef ENRICHD_DAEMON_NOTIFY_H
#define ENRICHD_DAEMON_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Every function here sends one datagram to the socket named by $NOTIFY_SOCKET (a path, or
 * an abstract socket when it starts with '@'). Without NOTIFY_SOCKET they do nothing and
 * return 0. They return 0 on success or -errno when the socket cannot be reached; the daemon
 * ignores failures (systemd kills a Type=notify service that never reports READY anyway).
 * Sending never blocks: when the receiver's queue is full the message is dropped (-EAGAIN).
 * Safe to call from any thread: each call opens, sends on and closes its own socket.
 */

/* Sends msg verbatim (e.g. "READY=1\nSTATUS=up"). msg is borrowed. */
int notify_send(const char *msg);

/* "READY=1": after local initialisation (config, models, Kafka handles, HTTP listener),
 * not after the first partition assignment; and again after a reload finished. */
int notify_ready(void);

/* "STOPPING=1": as soon as shutdown begins (SIGTERM/SIGINT), before draining. */
int notify_stopping(void);

/* "RELOADING=1\nMONOTONIC_USEC=<CLOCK_MONOTONIC in us>": when a reload begins; send
 * notify_ready() when it ends (successfully or not). */
int notify_reloading(void);

/* "STATUS=<text>": a one-line human status shown by systemctl status. Newlines in the
 * formatted text are replaced by spaces; the text is truncated at 1024 bytes. */
int notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "WATCHDOG=1": call on a timer at notify_watchdog_usec() / 2 while the pipeline is healthy. */
int notify_watchdog(void);

/* The watchdog interval in microseconds from $WATCHDOG_USEC, or 0 when the watchdog is
 * disabled: unset, unparsable, zero, or $WATCHDOG_PID set to a pid other than ours. */
uint64_t notify_watchdog_usec(void);

/*
 * Pipeline health for the watchdog: WATCHDOG=1 is sent only while the loop turns (the caller
 * runs the check from a loop timer, so a stuck loop sends nothing), librdkafka reports no
 * fatal error, and the delivered watermark moves while there is lag. Being idle (no lag) is
 * healthy. Zero-initialise, then set stall_ms.
 */
struct notify_health {
    uint64_t stall_ms;    /* no delivery for this long while lag > 0 is unhealthy */
    uint64_t delivered;   /* watermark seen at the last progress */
    uint64_t progress_ms; /* when it last moved (or lag was 0); 0 = not yet observed */
};

/* Feeds one observation: now_ms on a monotonic clock, fatal when librdkafka reported a fatal
 * error, delivered the count of messages delivered to the output or the dead-letter topic,
 * lag the total consumer lag (< 0 when unknown, treated as none). Returns true when
 * healthy. */
bool notify_health_check(struct notify_health *h, uint64_t now_ms, bool fatal, uint64_t delivered,
                         int64_t lag);

/* On a timer every notify_watchdog_usec() / 2: sends WATCHDOG=1 when notify_health_check()
 * says healthy. Returns 1 when sent, 0 when withheld (or no NOTIFY_SOCKET), -errno on a
 * socket error. */
int notify_watchdog_if_healthy(struct notify_health *h, uint64_t now_ms, bool fatal,
                               uint64_t delivered, int64_t lag);

#endif
