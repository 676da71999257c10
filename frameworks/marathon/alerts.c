/*
 * alerts.c: alert mails, for the seed's "monitoring with alerts": with
 * --alert_smtp=smtp://HOST:PORT and --alert_to=ADDR[,ADDR...], Marathon mails (libcurl SMTP, From
 * --alert_from, by default marathon@<hostname>) when
 *
 *   - an instance's task fails (a status_update_event with TASK_FAILED),
 *   - an unhealthy instance is killed (unhealthy_instance_kill_event),
 *   - a deployment fails or is cancelled (deployment_failed).
 *
 * Each mail is a plain-text RFC 5322 message: a one-line summary in the Subject, the details and
 * the event's JSON in the body. Mails run on the runtime's I/O thread (http_client.h); a mail that
 * cannot be delivered is logged and counted, not retried.
 *
 * Rate limits, so that a crash-looping app does not flood a mailbox. Per app: after a mail, the
 * app's alerts are held back for --alert_interval seconds (default 300); when that quiet period
 * ends, one digest mail says how many were held back and repeats the latest, and a new quiet
 * period starts. Over all apps: at most --alert_max_per_minute mails in any 60 s (default 10);
 * an alert over that cap is held back as well, and its app's digest goes out once the minute
 * allows. So a crash loop costs one mail at once and one digest per interval at most, and no
 * alert goes unmentioned. Times are the runtime's clock (tests advance it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "actor/log.h"
#include "frameworks/marathon/http_client.h"
#include "frameworks/marathon/marathon_int.h"

#define DEFAULT_INTERVAL_S 300.0
#define DEFAULT_PER_MINUTE 10
#define WINDOW_NS          (60 * ACTOR_NS_PER_SEC)
#define MAIL_TIMEOUT_MS    30000L
#define SUBJECT_MAX        200
#define LINE_MAX_BYTES     990 /* RFC 5322 allows 998 before CRLF */
#define ADDRESS_MAX        254

typedef struct alert_app {
    char *app_id;
    int64_t quiet_until;    /* runtime clock ns: no mail about this app before */
    uint32_t suppressed;    /* alerts held back since the last mail */
    char *subject, *text;   /* the latest alert held back */
    actor_timer_id_t timer; /* the end of the quiet period; 0: none */
    char *timer_arg;        /* the timer's argument: a copy of app_id */
    UT_hash_handle hh;
} alert_app_t;

typedef struct marathon_alerts {
    marathon_http_client_t *client;
    char *from;             /* the sender's address */
    int64_t *sent_at;       /* ring of the last mails' times (runtime clock ns) */
    size_t cap, count, pos; /* ring size (the per-minute cap), entries, next slot */
    alert_app_t *apps;
    uint64_t serial; /* of the last Message-ID */
} alerts_t;

/* A mail under way: the message and where curl reads it from. */
typedef struct mail {
    char *data;
    size_t len, pos;
    struct curl_slist *rcpt;
    char *subject; /* for the log */
} mail_t;

/* ---- options ---- */

static bool address_ok(const char *a, size_t n)
{
    const char *at = memchr(a, '@', n);
    if (n == 0 || n > ADDRESS_MAX || at == NULL || at == a || at == a + n - 1)
        return false;
    for (size_t k = 0; k < n; k++) {
        unsigned char ch = (unsigned char)a[k];
        if (ch <= ' ' || ch == 0x7f || ch == '<' || ch == '>' || ch == ',' || ch == '"')
            return false;
    }
    return true;
}

/* Each comma-separated address of list; false names the bad one in err. */
static bool address_list_ok(const char *flag, const char *list, char *err, size_t err_len)
{
    size_t good = 0;
    for (const char *p = list; *p != '\0';) {
        size_t n = strcspn(p, ",");
        if (!address_ok(p, n)) {
            snprintf(err, err_len, "--%s: '%.*s' is not a mail address (user@host)", flag, (int)n,
                     p);
            return false;
        }
        good++;
        p += n;
        if (*p == ',')
            p++;
    }
    if (good == 0)
        snprintf(err, err_len, "--%s: no mail address", flag);
    return good > 0;
}

static bool smtp_url_ok(const char *url)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    bool ok = u != NULL &&
              curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host[0] != '\0' &&
              (strcasecmp(scheme, "smtp") == 0 || strcasecmp(scheme, "smtps") == 0) &&
              (strncasecmp(url, "smtp://", 7) == 0 || strncasecmp(url, "smtps://", 8) == 0);
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

static bool endpoints_ok(const char *list, char *err, size_t err_len)
{
    for (const char *p = list; *p != '\0';) {
        size_t n = strcspn(p, ",");
        char *url = strndup(p, n);
        char why[128] = "";
        bool ok = url != NULL && (n == 0 || marathon_callback_url_check(url, why, sizeof(why)));
        free(url);
        if (!ok) {
            snprintf(err, err_len, "--http_endpoints: '%.*s' %s", (int)n, p, why);
            return false;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return true;
}

actor_err_t marathon_notify_options_check(const marathon_options_t *opts, char *err, size_t err_len)
{
    const marathon_options_t *o = opts;
    if (o->event_subscriber != NULL && strcmp(o->event_subscriber, "http_callback") != 0) {
        snprintf(err, err_len,
                 "--event_subscriber: '%s' is unknown (the only one is http_callback)",
                 o->event_subscriber);
        return ACTOR_EINVAL;
    }
    if (o->http_endpoints != NULL && !endpoints_ok(o->http_endpoints, err, err_len))
        return ACTOR_EINVAL;
    if (o->alert_smtp == NULL) {
        if (o->alert_to == NULL)
            return ACTOR_OK;
        snprintf(err, err_len, "--alert_to needs --alert_smtp=smtp://HOST:PORT");
        return ACTOR_EINVAL;
    }
    if (!smtp_url_ok(o->alert_smtp)) {
        snprintf(err, err_len, "--alert_smtp: '%s' is not an smtp://HOST:PORT or smtps:// URL",
                 o->alert_smtp);
        return ACTOR_EINVAL;
    }
    if (o->alert_to == NULL) {
        snprintf(err, err_len, "--alert_to: required with --alert_smtp (an address to mail)");
        return ACTOR_EINVAL;
    }
    if (!address_list_ok("alert_to", o->alert_to, err, err_len))
        return ACTOR_EINVAL;
    if (o->alert_from != NULL && !address_ok(o->alert_from, strlen(o->alert_from))) {
        snprintf(err, err_len, "--alert_from: '%s' is not a mail address (user@host)",
                 o->alert_from);
        return ACTOR_EINVAL;
    }
    return ACTOR_OK;
}

/* ---- the state ---- */

static double interval_s(const marathon_t *m)
{
    return m->opts.alert_interval > 0 ? m->opts.alert_interval : DEFAULT_INTERVAL_S;
}

static char *default_from(const marathon_t *m)
{
    char host[256] = "localhost";
    if (m->opts.hostname != NULL && m->opts.hostname[0] != '\0')
        snprintf(host, sizeof(host), "%s", m->opts.hostname);
    else if (gethostname(host, sizeof(host)) != 0)
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    char *from = NULL;
    return asprintf(&from, "marathon@%s", host) < 0 ? NULL : from;
}

static void alerts_free(alerts_t *al)
{
    marathon_http_client_free(al->client);
    free(al->sent_at);
    free(al->from);
    free(al);
}

void marathon_alerts_open(marathon_t *m)
{
    if (m->opts.alert_smtp == NULL)
        return; /* alerts are off */
    alerts_t *al = calloc(1, sizeof(*al));
    if (al == NULL)
        goto fail;
    al->cap = m->opts.alert_max_per_minute > 0 ? m->opts.alert_max_per_minute : DEFAULT_PER_MINUTE;
    al->sent_at = calloc(al->cap, sizeof(*al->sent_at));
    al->from = m->opts.alert_from != NULL ? strdup(m->opts.alert_from) : default_from(m);
    if (al->sent_at == NULL || al->from == NULL ||
        marathon_http_client_new(m->self, 4, &al->client) != ACTOR_OK)
        goto fail_free;
    m->alerts = al;
    LOG_INFO("Mailing alerts to %s through %s", m->opts.alert_to, m->opts.alert_smtp);
    return;

fail_free:
    alerts_free(al);
fail:
    LOG_ERROR("Out of memory starting alert mails: none will be sent");
}

static void app_free(alert_app_t *a)
{
    if (a->timer != 0 && actor_timer_cancel(a->timer))
        free(a->timer_arg);
    free(a->subject);
    free(a->text);
    free(a->app_id);
    free(a);
}

void marathon_alerts_close(marathon_t *m)
{
    alerts_t *al = m->alerts;
    if (al == NULL)
        return;
    alert_app_t *a, *tmp;
    HASH_ITER(hh, al->apps, a, tmp)
    {
        HASH_DEL(al->apps, a);
        app_free(a);
    }
    alerts_free(al);
    m->alerts = NULL;
}

/* ---- the global cap: a ring of the last `cap` mails' times ---- */

/* When the next mail may go (now or later). */
static int64_t window_free_at(const alerts_t *al, int64_t now)
{
    if (al->count < al->cap)
        return now;
    int64_t oldest = al->sent_at[al->pos]; /* the ring is full: pos is the oldest */
    return oldest + WINDOW_NS > now ? oldest + WINDOW_NS : now;
}

static void window_record(alerts_t *al, int64_t now)
{
    al->sent_at[al->pos] = now;
    al->pos = (al->pos + 1) % al->cap;
    if (al->count < al->cap)
        al->count++;
}

/* ---- composing and sending a mail ---- */

static void rfc5322_date(char *out, size_t len)
{
    time_t t = (time_t)(actor_clock_wall() / ACTOR_NS_PER_SEC);
    struct tm tm;
    gmtime_r(&t, &tm);
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    snprintf(out, len, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Appends text to a stream with CRLF line ends, breaking lines longer than LINE_MAX_BYTES. */
static void put_body(FILE *f, const char *text)
{
    size_t col = 0;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '\r')
            continue;
        if (*p == '\n' || col == LINE_MAX_BYTES) {
            fputs("\r\n", f);
            col = 0;
            if (*p == '\n')
                continue;
        }
        fputc(*p, f);
        col++;
    }
    fputs("\r\n", f);
}

/* The whole message; NULL when out of memory. */
static char *compose(marathon_t *m, alerts_t *al, const char *subject, const char *text,
                     size_t *len)
{
    char date[64];
    rfc5322_date(date, sizeof(date));
    const char *at = strchr(al->from, '@');
    char *data = NULL;
    FILE *f = open_memstream(&data, len);
    if (f == NULL)
        return NULL;
    fprintf(f,
            "Date: %s\r\nFrom: Marathon <%s>\r\nTo: %s\r\nSubject: %s\r\n"
            "Message-ID: <marathon.%lld.%llu%s>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
            "X-Mailer: Marathon\r\n\r\n",
            date, al->from, m->opts.alert_to, subject, (long long)actor_clock_wall(),
            (unsigned long long)++al->serial, at != NULL ? at : "@marathon");
    put_body(f, text);
    if (fclose(f) != 0) {
        free(data);
        return NULL;
    }
    return data;
}

static size_t read_mail(char *buffer, size_t size, size_t nitems, void *userdata)
{
    mail_t *mail = userdata;
    size_t n = mail->len - mail->pos;
    if (n > size * nitems)
        n = size * nitems;
    memcpy(buffer, mail->data + mail->pos, n);
    mail->pos += n;
    return n;
}

static void mail_free(void *arg)
{
    mail_t *mail = arg;
    curl_slist_free_all(mail->rcpt);
    free(mail->subject);
    free(mail->data);
    free(mail);
}

static void on_mailed(actor_t *self, void *state, CURL *easy, CURLcode result, void *arg)
{
    (void)self, (void)easy;
    marathon_t *m = state;
    mail_t *mail = arg;
    if (result == CURLE_OK) {
        m->counters.alerts_sent++;
        LOG_INFO("Mailed the alert '%s' to %s", mail->subject, m->opts.alert_to);
        return;
    }
    m->counters.alerts_failed++;
    LOG_WARNING("Failed to mail the alert '%s' through %s: %s", mail->subject, m->opts.alert_smtp,
                curl_easy_strerror(result));
}

/* "<a>" for each address of the list. */
static struct curl_slist *recipients(const char *list)
{
    struct curl_slist *rcpt = NULL;
    for (const char *p = list; *p != '\0';) {
        size_t n = strcspn(p, ",");
        char *r = NULL;
        struct curl_slist *next = NULL;
        if (n > 0 && asprintf(&r, "<%.*s>", (int)n, p) >= 0) {
            next = curl_slist_append(rcpt, r);
            free(r);
        }
        if (n > 0 && next == NULL) {
            curl_slist_free_all(rcpt);
            return NULL;
        }
        rcpt = n > 0 ? next : rcpt;
        p += n;
        if (*p == ',')
            p++;
    }
    return rcpt;
}

static CURL *smtp_new(marathon_t *m, alerts_t *al, mail_t *mail)
{
    char from[ADDRESS_MAX + 3];
    snprintf(from, sizeof(from), "<%s>", al->from);
    CURL *e = curl_easy_init();
    if (e == NULL || curl_easy_setopt(e, CURLOPT_URL, m->opts.alert_smtp) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_MAIL_FROM, from) != CURLE_OK) {
        if (e != NULL)
            curl_easy_cleanup(e);
        return NULL;
    }
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, mail->rcpt);
    curl_easy_setopt(e, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY); /* STARTTLS when offered */
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, read_mail);
    curl_easy_setopt(e, CURLOPT_READDATA, mail);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, MAIL_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, MAIL_TIMEOUT_MS);
    return e;
}

/* Sends one mail now (the caller checked the limits). */
static void send_mail(marathon_t *m, alerts_t *al, const char *subject, const char *text)
{
    window_record(al, actor_clock_now());
    mail_t *mail = calloc(1, sizeof(*mail));
    CURL *e = NULL;
    if (mail != NULL) {
        mail->subject = strdup(subject);
        mail->data = compose(m, al, subject, text, &mail->len);
        mail->rcpt = recipients(m->opts.alert_to);
    }
    if (mail != NULL && mail->subject != NULL && mail->data != NULL && mail->rcpt != NULL)
        e = smtp_new(m, al, mail);
    actor_err_t rc = e != NULL
                         ? marathon_http_client_start(al->client, e, on_mailed, mail_free, mail)
                         : ACTOR_ENOMEM;
    if (rc == ACTOR_OK)
        return;
    if (e != NULL)
        curl_easy_cleanup(e);
    if (mail != NULL)
        mail_free(mail);
    m->counters.alerts_failed++;
    LOG_WARNING("Cannot mail the alert '%s': %s", subject, actor_strerror(rc));
}

/* ---- the rate limits ---- */

static void on_quiet_end(actor_t *self, void *state, void *arg);

static void arm(marathon_t *m, alert_app_t *a, int64_t at)
{
    if (a->timer != 0)
        return;
    int64_t now = actor_clock_now();
    a->timer_arg = strdup(a->app_id);
    a->timer = a->timer_arg != NULL
                   ? actor_delay(m->self, at > now ? at - now : 0, on_quiet_end, a->timer_arg)
                   : 0;
    if (a->timer == 0) {
        free(a->timer_arg);
        a->timer_arg = NULL;
        LOG_ERROR("Out of memory arming the alert timer of %s: its held-back alerts stay unsent",
                  a->app_id);
    }
}

static void hold_back(marathon_t *m, alerts_t *al, alert_app_t *a, const char *subject,
                      const char *text)
{
    char *s = strdup(subject), *t = strdup(text);
    if (s != NULL && t != NULL) {
        free(a->subject);
        free(a->text);
        a->subject = s;
        a->text = t;
    } else {
        free(s);
        free(t);
    }
    a->suppressed++;
    m->counters.alerts_held_back++;
    int64_t now = actor_clock_now(), free_at = window_free_at(al, now);
    arm(m, a, a->quiet_until > free_at ? a->quiet_until : free_at);
}

/* Mails now and starts the app's quiet period. */
static void mail_now(marathon_t *m, alerts_t *al, alert_app_t *a, const char *subject,
                     const char *text)
{
    send_mail(m, al, subject, text);
    a->quiet_until = actor_clock_now() + (int64_t)(interval_s(m) * ACTOR_NS_PER_SEC);
    arm(m, a, a->quiet_until);
}

static void flush_digest(marathon_t *m, alerts_t *al, alert_app_t *a)
{
    char subject[SUBJECT_MAX + 64];
    snprintf(subject, sizeof(subject), "Marathon: %u more alert%s for %s, the latest: %s",
             a->suppressed, a->suppressed == 1 ? "" : "s", a->app_id,
             a->subject != NULL ? a->subject : "");
    char *text = NULL;
    if (asprintf(&text,
                 "%u alert%s for %s were held back by the rate limit (one mail per app every %.0f "
                 "seconds, at most %zu mails a minute). The latest of them:\n\n%s",
                 a->suppressed, a->suppressed == 1 ? "" : "s", a->app_id, interval_s(m), al->cap,
                 a->text != NULL ? a->text : "") < 0)
        text = NULL;
    a->suppressed = 0;
    mail_now(m, al, a, subject, text != NULL ? text : "");
    free(text);
}

static void on_quiet_end(actor_t *self, void *state, void *arg)
{
    char *app_id = arg;
    marathon_t *m = state;
    alert_app_t *a = NULL;
    if (self != NULL && m->alerts != NULL)
        HASH_FIND_STR(m->alerts->apps, app_id, a);
    free(app_id);
    if (a == NULL)
        return;
    alerts_t *al = m->alerts;
    a->timer = 0;
    a->timer_arg = NULL;
    int64_t now = actor_clock_now();
    if (a->quiet_until > now) { /* a mail went out while this call waited: a new quiet period */
        arm(m, a, a->quiet_until);
        return;
    }
    if (a->suppressed == 0) { /* a quiet period with nothing held back: forget the app */
        HASH_DEL(al->apps, a);
        app_free(a);
        return;
    }
    int64_t free_at = window_free_at(al, now);
    if (free_at > now)
        arm(m, a, free_at);
    else
        flush_digest(m, al, a);
}

static void raise_alert(marathon_t *m, alerts_t *al, const char *app_id, const char *subject,
                        const char *text)
{
    alert_app_t *a = NULL;
    HASH_FIND_STR(al->apps, app_id, a);
    if (a == NULL) {
        a = calloc(1, sizeof(*a));
        if (a == NULL || (a->app_id = strdup(app_id)) == NULL) {
            free(a);
            LOG_ERROR("Out of memory: not mailing the alert '%s'", subject);
            return;
        }
        HASH_ADD_KEYPTR(hh, al->apps, a->app_id, strlen(a->app_id), a);
    }
    int64_t now = actor_clock_now();
    if (a->quiet_until > now || window_free_at(al, now) > now) {
        VLOG(1, "Holding back the alert '%s' (rate limit)", subject);
        hold_back(m, al, a, subject, text);
        return;
    }
    mail_now(m, al, a, subject, text);
}

/* ---- which events are alerts ---- */

static const char *field(const json_t *event, const char *key)
{
    const char *v = json_string_value(json_object_get(event, key));
    return v != NULL ? v : "";
}

/* A subject line: no control characters (they would end the header), at most SUBJECT_MAX. */
static void subject_clean(char *s)
{
    for (char *p = s; *p != '\0'; p++) {
        if ((unsigned char)*p < ' ' || *p == 0x7f)
            *p = ' ';
    }
    if (strlen(s) > SUBJECT_MAX)
        strcpy(s + SUBJECT_MAX - 3, "...");
}

/* The alert an event makes: its app, subject and first lines, or false when it is none. */
static bool describe(const char *type, const json_t *event, const char **app_id, char *subject,
                     size_t subject_len, char **lines)
{
    int n = -1;
    if (strcmp(type, "status_update_event") == 0 &&
        strcmp(field(event, "taskStatus"), "TASK_FAILED") == 0) {
        *app_id = field(event, "appId");
        snprintf(subject, subject_len, "Marathon: task %s of %s failed", field(event, "taskId"),
                 *app_id);
        n = asprintf(lines, "Task %s of app %s failed on %s (agent %s).\nMessage: %s\nVersion: %s",
                     field(event, "taskId"), *app_id, field(event, "host"), field(event, "slaveId"),
                     field(event, "message"), field(event, "version"));
    } else if (strcmp(type, "unhealthy_instance_kill_event") == 0) {
        *app_id = field(event, "appId");
        snprintf(subject, subject_len, "Marathon: unhealthy instance %s of %s killed",
                 field(event, "instanceId"), *app_id);
        n = asprintf(lines,
                     "Instance %s of app %s failed its health checks and was killed.\nReason: "
                     "%s\nVersion: %s",
                     field(event, "instanceId"), *app_id, field(event, "reason"),
                     field(event, "version"));
    } else if (strcmp(type, "deployment_failed") == 0) {
        json_t *apps = json_object_get(json_object_get(event, "plan"), "affectedApps");
        const char *app = json_string_value(json_array_get(apps, 0));
        *app_id = app != NULL ? app : field(event, "id");
        snprintf(subject, subject_len, "Marathon: deployment %s of %s failed", field(event, "id"),
                 *app_id);
        n = asprintf(
            lines, "Deployment %s of app %s failed.\nReason: %s", field(event, "id"), *app_id,
            json_is_string(json_object_get(event, "reason")) ? field(event, "reason")
                                                             : "it was cancelled or superseded");
    } else {
        return false;
    }
    subject_clean(subject);
    if (n < 0)
        *lines = NULL;
    return true;
}

void marathon_alerts_event(marathon_t *m, const char *type, const json_t *event)
{
    alerts_t *al = m->alerts;
    if (al == NULL)
        return; /* alerts are off: no event costs anything */
    const char *app_id = NULL;
    char subject[SUBJECT_MAX + 64];
    char *lines = NULL;
    if (!describe(type, event, &app_id, subject, sizeof(subject), &lines))
        return;
    char *json = json_dumps(event, JSON_INDENT(2) | JSON_SORT_KEYS);
    char *text = NULL;
    if (asprintf(&text, "%s\n\nThe event (%s):\n%s\n", lines != NULL ? lines : "", type,
                 json != NULL ? json : "{}") < 0)
        text = NULL;
    raise_alert(m, al, app_id[0] != '\0' ? app_id : "/", subject, text != NULL ? text : "");
    free(text);
    free(json);
    free(lines);
}
