/* http.c: the tests' HTTP client on libcurl (http.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "tests/support/http.h"
#include "tests/support/wait.h"

#define TIMEOUT_S    10L
#define POLL_STEP_MS 50

typedef struct body {
    char *data; /* NUL-terminated; NULL until something came */
    size_t len;
} body_t;

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
    body_t *b = arg;
    char *grown = realloc(b->data, b->len + size * n + 1);
    if (grown == NULL)
        return 0; /* curl fails the transfer */
    memcpy(grown + b->len, data, size * n);
    b->len += size * n;
    grown[b->len] = '\0';
    b->data = grown;
    return size * n;
}

char *support_http_text(const char *method, uint16_t port, const char *path, const char *body,
                        long *status)
{
    char url[2048];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
    body_t b = {0};
    *status = 0;
    CURL *curl = curl_easy_init();
    if (curl == NULL)
        return NULL;
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    if (body != NULL)
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    if (curl_easy_perform(curl) == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return b.data;
}

json_t *support_http_json(const char *method, uint16_t port, const char *path, const char *body,
                          long *status)
{
    char *text = support_http_text(method, port, path, body, status);
    json_t *json = text != NULL ? json_loads(text, 0, NULL) : NULL;
    free(text);
    return json;
}

typedef struct poll_arg {
    uint16_t port;
    const char *path;
    bool (*done)(json_t *json, void *arg);
    void *arg;
} poll_arg_t;

static bool poll_once(void *arg)
{
    poll_arg_t *p = arg;
    long status = 0;
    json_t *json = support_http_json("GET", p->port, p->path, NULL, &status);
    bool ok = status == 200 && json != NULL && p->done(json, p->arg);
    json_decref(json);
    return ok;
}

bool support_http_poll(uint16_t port, const char *path, bool (*done)(json_t *json, void *arg),
                       void *arg, int timeout_ms)
{
    poll_arg_t p = {port, path, done, arg};
    return support_wait_until(poll_once, &p, timeout_ms, POLL_STEP_MS);
}
