/*
 * download.c: HTTP(S) downloads with libcurl (Mesos's net::download).
 *
 * The body goes straight into the caller's file descriptor. The status is checked when the
 * first body bytes arrive, so that the body of an error answer is never written; only a 2xx final
 * answer succeeds (Mesos accepts 200 only; we also take 203 and the like, which carry a body).
 * Redirects are followed to http and https only, so a server cannot send the fetcher to file://.
 * Content-Encoding is not negotiated: a .tar.gz arrives as the server stores it.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "slave/fetcher/fetcher_int.h"

#define MAX_REDIRECTS 20

typedef struct transfer {
    CURL *curl;
    int fd;
    int write_errno;   /* errno of a failed write to fd, 0 if none */
    long status;       /* the status that stopped the transfer, 0 if none */
    char *disposition; /* the caller's buffer for the Content-Disposition name */
    size_t disposition_len;
} transfer_t;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_FAILED_INIT;

static void curl_init(void)
{
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    transfer_t *t = arg;
    size_t len = size * nmemb;
    long status = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        t->status = status;
        return CURL_WRITEFUNC_ERROR;
    }
    if (fetcher_write_all(t->fd, data, len) != 0) {
        t->write_errno = errno;
        return CURL_WRITEFUNC_ERROR;
    }
    return len;
}

/* Each header line arrives on its own, status lines included: a new status line (after a
 * redirect) forgets the previous answer's Content-Disposition. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
    transfer_t *t = arg;
    size_t len = size * nmemb;
    static const char name[] = "content-disposition:";
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        t->disposition[0] = '\0';
    } else if (len > sizeof(name) - 1 && strncasecmp(data, name, sizeof(name) - 1) == 0) {
        char value[1024];
        size_t n = len - (sizeof(name) - 1);
        if (n >= sizeof(value))
            n = sizeof(value) - 1;
        memcpy(value, data + sizeof(name) - 1, n);
        value[n] = '\0';
        if (!fetcher_disposition_name(value, t->disposition, t->disposition_len))
            t->disposition[0] = '\0';
    }
    return len;
}

/* Copies the parameter value at p (quoted with backslash escapes, or a token) into out. */
static void param_value(const char *p, char *out, size_t out_len)
{
    size_t n = 0;
    if (*p == '"') {
        for (p++; *p != '\0' && *p != '"'; p++) {
            if (*p == '\\' && p[1] != '\0')
                p++;
            if (n + 1 < out_len)
                out[n++] = *p;
        }
    } else {
        for (; *p != '\0' && *p != ';' && !isspace((unsigned char)*p); p++) {
            if (n + 1 < out_len)
                out[n++] = *p;
        }
    }
    out[n] = '\0';
}

bool fetcher_disposition_name(const char *value, char *out, size_t out_len)
{
    char raw[NAME_MAX * 2];
    const char *p = value;
    raw[0] = '\0';
    while (p != NULL && *p != '\0') {
        while (*p == ';' || isspace((unsigned char)*p))
            p++;
        if (strncasecmp(p, "filename=", 9) == 0) {
            param_value(p + 9, raw, sizeof(raw));
            break;
        }
        p = strchr(p, ';');
    }
    /* Only the base name: a server does not choose where in the sandbox the file goes. */
    const char *base = raw;
    for (const char *q = raw; *q != '\0'; q++) {
        if (*q == '/' || *q == '\\')
            base = q + 1;
    }
    size_t len = strlen(base);
    if (len == 0 || len > NAME_MAX || len >= out_len || strcmp(base, ".") == 0 ||
        strcmp(base, "..") == 0 || fetcher_has_control(base))
        return false;
    memcpy(out, base, len + 1);
    return true;
}

static void set_options(CURL *curl, const char *url, long stall_secs, transfer_t *t, char *errbuf)
{
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, (long)MAX_REDIRECTS);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "mesos-fetcher/" MESOS_VERSION);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, t);
    if (stall_secs > 0) {
        /* Mesos's --fetcher_stall_timeout: below one byte per second for that long. */
        curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, stall_secs);
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, stall_secs);
    }
}

/* The reason for a transfer that ended with res, once the body has been dealt with. */
static actor_err_t outcome(const transfer_t *t, CURLcode res, const char *errbuf, char *why,
                           size_t why_len)
{
    long status = t->status;
    if (status == 0 && res == CURLE_OK)
        curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 0 && (status < 200 || status > 299))
        return fetcher_fail(why, why_len, ACTOR_EPROTO,
                            "Error downloading resource, received HTTP return code %ld", status);
    if (t->write_errno != 0)
        return fetcher_fail(why, why_len, ACTOR_ESYSTEM,
                            "Error downloading resource: failed to write it: %s",
                            strerror(t->write_errno));
    if (res == CURLE_OK)
        return ACTOR_OK;
    const char *detail = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(res);
    actor_err_t err = ACTOR_EPROTO;
    if (res == CURLE_OPERATION_TIMEDOUT)
        err = ACTOR_ETIMEDOUT;
    else if (res == CURLE_OUT_OF_MEMORY)
        err = ACTOR_ENOMEM;
    return fetcher_fail(why, why_len, err, "Error downloading resource: %s", detail);
}

actor_err_t fetcher_download(const char *url, long stall_secs, int fd, char *disposition,
                             size_t disposition_len, char *why, size_t why_len)
{
    pthread_once(&curl_once, curl_init);
    if (curl_init_result != CURLE_OK)
        return fetcher_fail(why, why_len, ACTOR_ESYSTEM, "Failed to initialise libcurl: %s",
                            curl_easy_strerror(curl_init_result));
    if (disposition_len == 0)
        return fetcher_fail(why, why_len, ACTOR_EINVAL, "No room for a file name");
    disposition[0] = '\0';
    CURL *curl = curl_easy_init();
    if (curl == NULL)
        return fetcher_fail(why, why_len, ACTOR_ENOMEM, "Failed to initialise libcurl");
    transfer_t t = {
        .curl = curl, .fd = fd, .disposition = disposition, .disposition_len = disposition_len};
    char errbuf[CURL_ERROR_SIZE] = "";
    set_options(curl, url, stall_secs, &t, errbuf);
    CURLcode res = curl_easy_perform(curl);
    actor_err_t err = outcome(&t, res, errbuf, why, why_len);
    curl_easy_cleanup(curl);
    return err;
}
