/* Marathon's alert mails (alerts.c) in an in-process cluster, received by a small SMTP server of
 * the test on 127.0.0.1 (RFC 5321's greeting, EHLO/HELO, MAIL FROM, RCPT TO, DATA, RSET, NOOP,
 * QUIT): a failed task is mailed, a crash loop costs one mail and a digest, the cap per minute
 * holds back the rest until the minute allows, deployment failures are mailed, an instance
 * killed for failing its HTTP health checks (against a refused port of 127.0.0.1, its agent
 * advertised as 127.0.0.1) is mailed, an unreachable
 * SMTP server changes nothing for Marathon, and bad options get a one-line error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "tests/marathon/server/notify_support.h"

#define MAILS_MAX 32

/* ---- the SMTP server: a thread serving one session at a time ---- */

typedef struct smtp_server {
    int fd;
    uint16_t port;
    pthread_t thread;
    atomic_bool stop;
    pthread_mutex_t lock;
    char *mails[MAILS_MAX]; /* "MAIL FROM:<a>\nRCPT TO:<b>\n...\n\n" and the message */
    size_t count;
} smtp_server_t;

typedef struct session {
    int fd;
    char buf[8192];
    size_t len;
} session_t;

static void say(session_t *s, const char *line)
{
    size_t n = strlen(line);
    if (write(s->fd, line, n) != (ssize_t)n)
        s->fd = -1;
}

/* The next line without its CRLF into out; false when the client went or was silent 2 s. */
static bool read_line(smtp_server_t *srv, session_t *s, char *out, size_t out_len)
{
    for (;;) {
        char *nl = s->fd >= 0 ? memchr(s->buf, '\n', s->len) : NULL;
        if (nl != NULL) {
            size_t n = (size_t)(nl - s->buf);
            size_t keep = n > 0 && s->buf[n - 1] == '\r' ? n - 1 : n;
            snprintf(out, out_len, "%.*s", (int)keep, s->buf);
            memmove(s->buf, nl + 1, s->len - n - 1);
            s->len -= n + 1;
            return true;
        }
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        if (s->fd < 0 || atomic_load(&srv->stop) || poll(&p, 1, 2000) <= 0 ||
            s->len == sizeof(s->buf))
            return false;
        ssize_t got = read(s->fd, s->buf + s->len, sizeof(s->buf) - s->len);
        if (got <= 0)
            return false;
        s->len += (size_t)got;
    }
}

static void append(char **text, const char *line)
{
    size_t old = *text != NULL ? strlen(*text) : 0;
    char *t = realloc(*text, old + strlen(line) + 2);
    assert_non_null(t);
    strcpy(t + old, line);
    strcat(t + old, "\n");
    *text = t;
}

/* DATA: the message up to the line ".", leading dots unstuffed. */
static bool read_data(smtp_server_t *srv, session_t *s, char **mail)
{
    char line[1100];
    append(mail, "");
    while (read_line(srv, s, line, sizeof(line))) {
        if (strcmp(line, ".") == 0)
            return true;
        append(mail, line[0] == '.' ? line + 1 : line);
    }
    return false;
}

static void keep_mail(smtp_server_t *srv, char *mail)
{
    pthread_mutex_lock(&srv->lock);
    if (srv->count < MAILS_MAX)
        srv->mails[srv->count++] = mail;
    else
        free(mail);
    pthread_mutex_unlock(&srv->lock);
}

static void serve(smtp_server_t *srv, int fd)
{
    session_t s = {.fd = fd};
    char line[1100];
    char *mail = NULL;
    say(&s, "220 smtp.test ESMTP ready\r\n");
    while (read_line(srv, &s, line, sizeof(line))) {
        if (strncasecmp(line, "EHLO", 4) == 0) {
            say(&s, "250-smtp.test\r\n250 8BITMIME\r\n");
        } else if (strncasecmp(line, "HELO", 4) == 0 || strcasecmp(line, "NOOP") == 0) {
            say(&s, "250 OK\r\n");
        } else if (strncasecmp(line, "MAIL FROM:", 10) == 0 || strcasecmp(line, "RSET") == 0) {
            free(mail);
            mail = NULL;
            if (line[0] == 'M' || line[0] == 'm')
                append(&mail, line);
            say(&s, "250 OK\r\n");
        } else if (strncasecmp(line, "RCPT TO:", 8) == 0 && mail != NULL) {
            append(&mail, line);
            say(&s, "250 OK\r\n");
        } else if (strcasecmp(line, "DATA") == 0 && mail != NULL) {
            say(&s, "354 End data with <CR><LF>.<CR><LF>\r\n");
            if (!read_data(srv, &s, &mail))
                break;
            keep_mail(srv, mail);
            mail = NULL;
            say(&s, "250 OK queued\r\n");
        } else if (strcasecmp(line, "QUIT") == 0) {
            say(&s, "221 Bye\r\n");
            break;
        } else {
            say(&s, "502 Command not implemented\r\n");
        }
    }
    free(mail);
    close(fd);
}

static void *smtp_main(void *arg)
{
    smtp_server_t *srv = arg;
    while (!atomic_load(&srv->stop)) {
        struct pollfd p = {.fd = srv->fd, .events = POLLIN};
        if (poll(&p, 1, 20) <= 0)
            continue;
        int fd = accept(srv->fd, NULL, NULL);
        if (fd >= 0)
            serve(srv, fd);
    }
    return NULL;
}

static smtp_server_t *smtp_start(void)
{
    smtp_server_t *srv = calloc(1, sizeof(*srv));
    assert_non_null(srv);
    srv->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(srv->fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_int_equal(bind(srv->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(srv->fd, 8), 0);
    assert_int_equal(getsockname(srv->fd, (struct sockaddr *)&a, &len), 0);
    srv->port = ntohs(a.sin_port);
    pthread_mutex_init(&srv->lock, NULL);
    assert_int_equal(pthread_create(&srv->thread, NULL, smtp_main, srv), 0);
    return srv;
}

static void smtp_stop(smtp_server_t *srv)
{
    atomic_store(&srv->stop, true);
    pthread_join(srv->thread, NULL);
    close(srv->fd);
    for (size_t k = 0; k < srv->count; k++)
        free(srv->mails[k]);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
}

static size_t mail_count(smtp_server_t *srv)
{
    pthread_mutex_lock(&srv->lock);
    size_t n = srv->count;
    pthread_mutex_unlock(&srv->lock);
    return n;
}

/* Mail k (borrowed: the server only appends). */
static const char *mail_text(smtp_server_t *srv, size_t k)
{
    pthread_mutex_lock(&srv->lock);
    const char *m = k < srv->count ? srv->mails[k] : NULL;
    pthread_mutex_unlock(&srv->lock);
    assert_non_null(m);
    return m;
}

typedef struct mails_wanted {
    smtp_server_t *srv;
    size_t count;
} mails_wanted_t;

static bool enough_mails(void *arg)
{
    mails_wanted_t *w = arg;
    return mail_count(w->srv) >= w->count;
}

static void wait_mails(smtp_server_t *srv, size_t count)
{
    mails_wanted_t w = {srv, count};
    assert_true(notify_wait(enough_mails, &w, 5000));
}

/* ---- the fixture: the cluster with alerts to the test's SMTP server ---- */

typedef struct fixture {
    smtp_server_t *smtp;
    notify_cluster_t *c;
    char smtp_url[64];
    char framework_id[128];
} fixture_t;

/* The fixture, its fake agent advertised as agent_host (NULL: notify_support's default). */
static fixture_t *fixture_new_on(uint32_t per_minute, const char *agent_host)
{
    fixture_t *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->smtp = smtp_start();
    snprintf(f->smtp_url, sizeof(f->smtp_url), "smtp://127.0.0.1:%u", f->smtp->port);
    marathon_options_t o;
    marathon_options_init(&o);
    o.alert_smtp = f->smtp_url;
    o.alert_to = "ops@example.com,dev@example.com";
    o.alert_from = "marathon@test.local";
    o.alert_interval = 60;
    o.alert_max_per_minute = per_minute;
    f->c = notify_cluster_prepare_host(false, agent_host);
    notify_marathon_start(f->c, &o);
    notify_framework_id(f->c, f->framework_id, sizeof(f->framework_id));
    return f;
}

static fixture_t *fixture_new(uint32_t per_minute)
{
    return fixture_new_on(per_minute, NULL);
}

static int setup(void **state)
{
    *state = fixture_new(10);
    return 0;
}

static int setup_capped(void **state)
{
    *state = fixture_new(2);
    return 0;
}

static int setup_local_agent(void **state)
{
    *state = fixture_new_on(10, "127.0.0.1");
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    notify_cluster_free(f->c);
    smtp_stop(f->smtp);
    free(f);
    return 0;
}

static void create_app(notify_cluster_t *c, const char *json)
{
    int status = 0;
    json_t *j = notify_api(c, "POST", "/v2/apps", json, &status);
    assert_int_equal(status, 201);
    json_decref(j);
}

static size_t launches(notify_cluster_t *c)
{
    return fake_count(c->agent, "mesos.internal.RunTaskMessage");
}

/* Waits for launch number n on the fake agent, runs it, fails it; returns its id in id. */
static void launch_and_fail(fixture_t *f, size_t n, char *id, size_t id_len)
{
    for (int k = 0; k < 30 && launches(f->c) < n; k++)
        cluster_advance(1);
    assert_int_equal(launches(f->c), n);
    assert_true(notify_last_task(f->c, id, id_len));
    agent_update(f->c->agent, &f->c->master, f->framework_id, id, MESOS__TASK_STATE__TASK_RUNNING);
    actor_settle();
    agent_update(f->c->agent, &f->c->master, f->framework_id, id, MESOS__TASK_STATE__TASK_FAILED);
    actor_settle();
}

/* ---- tests ---- */

static void test_failed_task_mailed(void **state)
{
    fixture_t *f = *state;
    create_app(f->c, "{\"id\":\"crash\",\"cmd\":\"sleep 1000\",\"cpus\":0.1,\"mem\":16}");
    char id[256];
    launch_and_fail(f, 1, id, sizeof(id));
    wait_mails(f->smtp, 1);
    const char *mail = mail_text(f->smtp, 0);
    assert_non_null(strstr(mail, "MAIL FROM:<marathon@test.local>"));
    assert_non_null(strstr(mail, "RCPT TO:<ops@example.com>"));
    assert_non_null(strstr(mail, "RCPT TO:<dev@example.com>"));
    assert_non_null(strstr(mail, "From: Marathon <marathon@test.local>"));
    assert_non_null(strstr(mail, "To: ops@example.com,dev@example.com"));
    char subject[400];
    snprintf(subject, sizeof(subject), "Subject: Marathon: task %s of /crash failed", id);
    assert_non_null(strstr(mail, subject));
    assert_non_null(strstr(mail, "\"taskStatus\": \"TASK_FAILED\""));
    assert_non_null(strstr(mail, "Date: "));
    assert_non_null(strstr(mail, "Message-ID: <marathon."));
    notify_idle(50);
    assert_int_equal(mail_count(f->smtp), 1);
}

/* Four failures in a row: one mail at once; the other three in one digest when the app's quiet
 * minute ends; then nothing. */
static void test_crash_loop_rate_limited(void **state)
{
    fixture_t *f = *state;
    create_app(f->c, "{\"id\":\"loop\",\"cmd\":\"sleep 1000\",\"cpus\":0.1,\"mem\":16,"
                     "\"backoffSeconds\":1,\"backoffFactor\":1}");
    char id[256];
    for (size_t n = 1; n <= 4; n++)
        launch_and_fail(f, n, id, sizeof(id));
    wait_mails(f->smtp, 1);
    notify_idle(50);
    assert_int_equal(mail_count(f->smtp), 1);
    cluster_advance(60);
    wait_mails(f->smtp, 2);
    const char *digest = mail_text(f->smtp, 1);
    assert_non_null(strstr(digest, "Subject: Marathon: 3 more alerts for /loop, the latest: "
                                   "Marathon: task "));
    assert_non_null(strstr(digest, "3 alerts for /loop were held back by the rate limit"));
    assert_non_null(strstr(digest, id)); /* the latest failure is repeated */
    cluster_advance(120);
    notify_idle(50);
    assert_int_equal(mail_count(f->smtp), 2);
}

static void cancel_deployment(notify_cluster_t *c, const char *app_id)
{
    int status = 0;
    json_t *all = notify_api(c, "GET", "/v2/deployments", NULL, &status);
    assert_int_equal(status, 200);
    const char *id = NULL;
    for (size_t k = 0; k < json_array_size(all); k++) {
        json_t *d = json_array_get(all, k);
        const char *app = json_string_value(json_array_get(json_object_get(d, "affectedApps"), 0));
        if (app != NULL && strcmp(app, app_id) == 0)
            id = json_string_value(json_object_get(d, "id"));
    }
    assert_non_null(id);
    char path[256];
    snprintf(path, sizeof(path), "/v2/deployments/%s?force=true", id);
    json_decref(notify_api(c, "DELETE", path, NULL, &status));
    assert_int_equal(status, 202);
    json_decref(all);
}

/* Three apps' deployments fail within a minute under a cap of two mails a minute: two mails go
 * at once, the third app's alert once the minute allows. */
static void test_deployment_failures_capped_per_minute(void **state)
{
    fixture_t *f = *state;
    const char *apps[] = {"/big-a", "/big-b", "/big-c"};
    for (int k = 0; k < 3; k++) {
        char json[200];
        snprintf(json, sizeof(json), "{\"id\":\"%s\",\"cmd\":\"sleep 1000\",\"cpus\":64}", apps[k]);
        create_app(f->c, json);
    }
    for (int k = 0; k < 3; k++)
        cancel_deployment(f->c, apps[k]);
    wait_mails(f->smtp, 2);
    notify_idle(50);
    assert_int_equal(mail_count(f->smtp), 2);
    assert_non_null(strstr(mail_text(f->smtp, 0), "of /big-a failed"));
    assert_non_null(strstr(mail_text(f->smtp, 0), "Subject: Marathon: deployment "));
    assert_non_null(strstr(mail_text(f->smtp, 1), "of /big-b failed"));
    cluster_advance(60);
    wait_mails(f->smtp, 3);
    const char *third = mail_text(f->smtp, 2);
    assert_non_null(strstr(third, "Subject: Marathon: 1 more alert for /big-c"));
    assert_non_null(strstr(third, "it was cancelled or superseded"));
}

/* Mail that cannot be delivered is logged; Marathon goes on. */
static void test_smtp_unreachable(void **state)
{
    (void)state;
    smtp_server_t *gone = smtp_start();
    char url[64];
    snprintf(url, sizeof(url), "smtp://127.0.0.1:%u", gone->port);
    smtp_stop(gone); /* nothing listens there now */
    marathon_options_t o;
    marathon_options_init(&o);
    o.alert_smtp = url;
    o.alert_to = "ops@example.com";
    fixture_t f = {.c = notify_cluster_new(&o, false)};
    notify_framework_id(f.c, f.framework_id, sizeof(f.framework_id));
    create_app(f.c, "{\"id\":\"crash\",\"cmd\":\"sleep 1000\",\"cpus\":0.1,\"mem\":16}");
    char id[256];
    launch_and_fail(&f, 1, id, sizeof(id));
    notify_idle(100);
    int status = 0;
    json_t *j = notify_api(f.c, "GET", "/v2/apps/crash", NULL, &status);
    assert_int_equal(status, 200);
    json_decref(j);
    notify_cluster_free(f.c);
}

/* A port of 127.0.0.1 that refuses connections: bound, not listening (so no one else takes it
 * while the test runs). */
static int refusing_socket(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

typedef struct health_wanted {
    notify_cluster_t *c;
    uint32_t failures; /* consecutiveFailures of the app's task to wait for */
} health_wanted_t;

static size_t kills(notify_cluster_t *c)
{
    return fake_count(c->agent, "mesos.internal.KillTaskMessage");
}

/* The task was killed, or its check counted `failures` failures (the probes are real I/O). */
static bool failures_counted(void *arg)
{
    health_wanted_t *w = arg;
    if (kills(w->c) > 0)
        return true;
    int status = 0;
    json_t *j = notify_api(w->c, "GET", "/v2/apps/sick", NULL, &status);
    json_t *task = json_array_get(json_object_get(json_object_get(j, "app"), "tasks"), 0);
    json_t *result = json_array_get(json_object_get(task, "healthCheckResults"), 0);
    json_int_t n = json_integer_value(json_object_get(result, "consecutiveFailures"));
    json_decref(j);
    return n >= (json_int_t)w->failures;
}

/* An HTTP health check of 127.0.0.1 that is refused: after maxConsecutiveFailures the instance
 * is killed, and the kill is mailed, naming the app, the instance and why. */
static void test_unhealthy_instance_kill_mailed(void **state)
{
    fixture_t *f = *state;
    uint16_t port = 0;
    int fd = refusing_socket(&port);
    char json[512];
    snprintf(json, sizeof(json),
             "{\"id\":\"/sick\",\"cmd\":\"sleep 1000\",\"cpus\":0.1,\"mem\":16,"
             "\"healthChecks\":[{\"protocol\":\"HTTP\",\"path\":\"/health\",\"port\":%u,"
             "\"gracePeriodSeconds\":0,\"intervalSeconds\":1,\"timeoutSeconds\":1,"
             "\"maxConsecutiveFailures\":2}]}",
             port);
    create_app(f->c, json);
    for (int k = 0; k < 10 && launches(f->c) < 1; k++)
        cluster_advance(1);
    char id[256];
    assert_true(notify_last_task(f->c, id, sizeof(id)));
    agent_update(f->c->agent, &f->c->master, f->framework_id, id, MESOS__TASK_STATE__TASK_RUNNING);
    /* A probe at once, then one a second: failures 1 and 2 are counted, the third kills. */
    for (uint32_t n = 1; n <= 3 && kills(f->c) == 0; n++) {
        health_wanted_t w = {f->c, n};
        assert_true(notify_wait(failures_counted, &w, 5000));
        if (kills(f->c) == 0)
            cluster_advance(1);
    }
    assert_int_equal(kills(f->c), 1);
    wait_mails(f->smtp, 1);
    const char *mail = mail_text(f->smtp, 0);
    char subject[400];
    snprintf(subject, sizeof(subject), "Subject: Marathon: unhealthy instance %s of /sick killed",
             id);
    assert_non_null(strstr(mail, subject));
    assert_non_null(strstr(mail, "RCPT TO:<ops@example.com>"));
    char line[400];
    snprintf(line, sizeof(line),
             "Instance %s of app /sick failed its health checks and was killed.", id);
    assert_non_null(strstr(mail, line));
    snprintf(line, sizeof(line), "Reason: Failed to connect to 127.0.0.1:%u", port);
    assert_non_null(strstr(mail, line));
    assert_non_null(strstr(mail, "The event (unhealthy_instance_kill_event):"));
    assert_non_null(strstr(mail, "\"appId\": \"/sick\""));

    /* Its end (TASK_KILLED) is no second alert. */
    agent_update(f->c->agent, &f->c->master, f->framework_id, id, MESOS__TASK_STATE__TASK_KILLED);
    notify_idle(50);
    assert_int_equal(mail_count(f->smtp), 1);
    close(fd);
}

static void test_options_check(void **state)
{
    (void)state;
    static const struct {
        const char *smtp, *to, *from, *subscriber, *endpoints;
        const char *error; /* NULL: valid */
    } cases[] = {
        {NULL, NULL, NULL, NULL, NULL, NULL},
        {"smtp://127.0.0.1:25", "a@b.c", NULL, "http_callback", "http://127.0.0.1:1/x", NULL},
        {"smtps://mail.example.com", "a@b.c,d@e.f", "m@h.i", NULL, NULL, NULL},
        {"http://127.0.0.1:25", "a@b.c", NULL, NULL, NULL, "--alert_smtp"},
        {"smtp://", "a@b.c", NULL, NULL, NULL, "--alert_smtp"},
        {"smtp://127.0.0.1:25", NULL, NULL, NULL, NULL, "--alert_to: required"},
        {NULL, "a@b.c", NULL, NULL, NULL, "--alert_to needs --alert_smtp"},
        {"smtp://127.0.0.1:25", "nobody", NULL, NULL, NULL, "--alert_to: 'nobody'"},
        {"smtp://127.0.0.1:25", "a@b.c,,x y@z", NULL, NULL, NULL, "--alert_to"},
        {"smtp://127.0.0.1:25", "a@b.c", "<m@h>", NULL, NULL, "--alert_from"},
        {NULL, NULL, NULL, "sse", NULL, "--event_subscriber"},
        {NULL, NULL, NULL, NULL, "http://127.0.0.1:1/x,ftp://h/", "--http_endpoints: 'ftp://h/'"},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        marathon_options_t o;
        marathon_options_init(&o);
        o.alert_smtp = cases[k].smtp;
        o.alert_to = cases[k].to;
        o.alert_from = cases[k].from;
        o.event_subscriber = cases[k].subscriber;
        o.http_endpoints = cases[k].endpoints;
        char err[256] = "";
        actor_err_t rc = marathon_notify_options_check(&o, err, sizeof(err));
        if (cases[k].error == NULL) {
            assert_int_equal(rc, ACTOR_OK);
            continue;
        }
        assert_int_equal(rc, ACTOR_EINVAL);
        if (strstr(err, cases[k].error) != err)
            fail_msg("case %zu: '%s' does not start with '%s'", k, err, cases[k].error);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_failed_task_mailed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_loop_rate_limited, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deployment_failures_capped_per_minute, setup_capped,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unhealthy_instance_kill_mailed, setup_local_agent,
                                        teardown),
        cmocka_unit_test(test_smtp_unreachable),
        cmocka_unit_test(test_options_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
