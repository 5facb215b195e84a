/* Tests for daemon/notify: the exact datagrams sent to a fake NOTIFY_SOCKET. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/notify.h"

static int listen_fd = -1;
static char sock_dir[64];
static char sock_path[128];

/* Binds a datagram socket at a fresh path (or an abstract name) and points NOTIFY_SOCKET at
 * it, as systemd does for a Type=notify service. */
static void fake_systemd(int abstract)
{
    struct sockaddr_un addr;
    socklen_t len;

    listen_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    cr_assert(listen_fd >= 0);
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    if (abstract) {
        snprintf(sock_path, sizeof(sock_path), "@enrichd-test-notify-%ld", (long)getpid());
        memcpy(addr.sun_path, sock_path, strlen(sock_path));
        addr.sun_path[0] = '\0';
        len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(sock_path));
    } else {
        strcpy(sock_dir, "/tmp/test_notify_XXXXXX");
        cr_assert(mkdtemp(sock_dir) != NULL);
        snprintf(sock_path, sizeof(sock_path), "%s/notify", sock_dir);
        strcpy(addr.sun_path, sock_path);
        len = sizeof(addr);
    }
    cr_assert_eq(bind(listen_fd, (struct sockaddr *)&addr, len), 0);
    setenv("NOTIFY_SOCKET", sock_path, 1);
}

static void teardown(void)
{
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    if (listen_fd >= 0)
        close(listen_fd);
    listen_fd = -1;
    if (sock_dir[0] != '\0') {
        unlink(sock_path);
        rmdir(sock_dir);
        sock_dir[0] = '\0';
    }
}

static void setup_path(void)
{
    fake_systemd(0);
}

/* Receives one datagram, waiting up to 5 s. */
static char *recv_msg(void)
{
    static char buf[2048];
    struct pollfd pfd = {.fd = listen_fd, .events = POLLIN};
    ssize_t n;

    cr_assert_eq(poll(&pfd, 1, 5000), 1, "no notification arrived");
    n = recv(listen_fd, buf, sizeof(buf) - 1, 0);
    cr_assert(n >= 0);
    buf[n] = '\0';
    return buf;
}

/* True when nothing is waiting on the socket. */
static int socket_empty(void)
{
    struct pollfd pfd = {.fd = listen_fd, .events = POLLIN};
    return poll(&pfd, 1, 0) == 0;
}

TestSuite(notify, .fini = teardown);

Test(notify, sends_ready_stopping_and_watchdog_verbatim, .init = setup_path)
{
    cr_assert_eq(notify_ready(), 0);
    cr_assert_str_eq(recv_msg(), "READY=1");
    cr_assert_eq(notify_watchdog(), 0);
    cr_assert_str_eq(recv_msg(), "WATCHDOG=1");
    cr_assert_eq(notify_stopping(), 0);
    cr_assert_str_eq(recv_msg(), "STOPPING=1");
    cr_assert(socket_empty());
}

Test(notify, reloading_carries_the_current_monotonic_time, .init = setup_path)
{
    struct timespec before, after;
    uint64_t b, a, usec;
    char *msg;

    clock_gettime(CLOCK_MONOTONIC, &before);
    cr_assert_eq(notify_reloading(), 0);
    clock_gettime(CLOCK_MONOTONIC, &after);
    msg = recv_msg();
    cr_assert_eq(strncmp(msg, "RELOADING=1\nMONOTONIC_USEC=", 27), 0, "got %s", msg);
    cr_assert_eq(sscanf(msg + 27, "%" SCNu64, &usec), 1);
    b = (uint64_t)before.tv_sec * 1000000u + (uint64_t)before.tv_nsec / 1000u;
    a = (uint64_t)after.tv_sec * 1000000u + (uint64_t)after.tv_nsec / 1000u;
    cr_assert(usec >= b && usec <= a, "%" PRIu64 " not in [%" PRIu64 ", %" PRIu64 "]", usec, b, a);
}

Test(notify, status_is_formatted_on_one_line, .init = setup_path)
{
    cr_assert_eq(notify_status("consuming %d partitions\nlag %s", 3, "12"), 0);
    cr_assert_str_eq(recv_msg(), "STATUS=consuming 3 partitions lag 12");
}

Test(notify, reaches_an_abstract_socket)
{
    fake_systemd(1);
    cr_assert_eq(notify_ready(), 0);
    cr_assert_str_eq(recv_msg(), "READY=1");
}

Test(notify, does_nothing_without_notify_socket)
{
    unsetenv("NOTIFY_SOCKET");
    cr_assert_eq(notify_ready(), 0);
    cr_assert_eq(notify_status("x %d", 1), 0);
    cr_assert_eq(notify_watchdog(), 0);
}

Test(notify, reports_an_unreachable_socket)
{
    setenv("NOTIFY_SOCKET", "/nonexistent/enrichd-notify", 1);
    cr_assert_lt(notify_ready(), 0);
    setenv("NOTIFY_SOCKET", "relative/path", 1);
    cr_assert_lt(notify_ready(), 0);
}

Test(notify, watchdog_interval_follows_the_environment)
{
    char pid[32];

    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    cr_assert_eq(notify_watchdog_usec(), 0);
    setenv("WATCHDOG_USEC", "20000000", 1);
    cr_assert_eq(notify_watchdog_usec(), 20000000u);
    snprintf(pid, sizeof(pid), "%ld", (long)getpid());
    setenv("WATCHDOG_PID", pid, 1);
    cr_assert_eq(notify_watchdog_usec(), 20000000u);
    snprintf(pid, sizeof(pid), "%ld", (long)getpid() + 1);
    setenv("WATCHDOG_PID", pid, 1);
    cr_assert_eq(notify_watchdog_usec(), 0, "the watchdog belongs to another process");
    unsetenv("WATCHDOG_PID");
    setenv("WATCHDOG_USEC", "20s", 1);
    cr_assert_eq(notify_watchdog_usec(), 0);
    setenv("WATCHDOG_USEC", "0", 1);
    cr_assert_eq(notify_watchdog_usec(), 0);
}

Test(notify, health_needs_delivery_progress_only_while_there_is_lag)
{
    struct notify_health h = {.stall_ms = 30000};

    cr_assert(notify_health_check(&h, 1000, false, 0, 0), "idle at start is healthy");
    cr_assert(notify_health_check(&h, 100000, false, 0, 0), "idle for long is healthy");
    cr_assert(notify_health_check(&h, 101000, false, 0, 500), "lag appears");
    cr_assert(notify_health_check(&h, 120000, false, 10, 490), "deliveries move");
    cr_assert(notify_health_check(&h, 150000, false, 10, 490), "30 s without progress");
    cr_assert_not(notify_health_check(&h, 150001, false, 10, 490), "stalled with lag");
    cr_assert(notify_health_check(&h, 151000, false, 11, 489), "progress heals it");
    cr_assert_not(notify_health_check(&h, 152000, true, 12, 488), "fatal error");
    cr_assert(notify_health_check(&h, 200000, false, 12, -1), "unknown lag counts as none");
}

Test(notify, watchdog_is_withheld_while_unhealthy, .init = setup_path)
{
    struct notify_health h = {.stall_ms = 1000};

    cr_assert_eq(notify_watchdog_if_healthy(&h, 1, false, 0, 5), 1);
    cr_assert_str_eq(recv_msg(), "WATCHDOG=1");
    cr_assert_eq(notify_watchdog_if_healthy(&h, 5000, false, 0, 5), 0);
    cr_assert_eq(notify_watchdog_if_healthy(&h, 5001, true, 9, 0), 0);
    cr_assert(socket_empty());
    cr_assert_eq(notify_watchdog_if_healthy(&h, 6000, false, 10, 0), 1);
    cr_assert_str_eq(recv_msg(), "WATCHDOG=1");
}
