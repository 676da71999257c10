/*
 * http.c: the CLI's HTTP client on libcurl's easy interface (cli.h): one blocking request at a
 * time, the answer collected in memory and parsed as JSON, errors turned into one line that
 * names the server and carries its own message (Marathon's {"message", "details"}, or the plain
 * text Mesos answers with).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "tools/cli/cli.h"

#define DEPLOYMENT_HEADER "Marathon-Deployment-Id:"

typedef struct buffer {
    char *data;
    size_t len;
    bool oom;
} buffer_t;

int cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("mesos: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    buffer_t *b = arg;
    char *grown = realloc(b->data, b->len + size * n + 1);
    if (grown == NULL) {
        b->oom = true;
        return 0; /* aborts the transfer */
    }
    memcpy(grown + b->len, data, size * n);
    b->len += size * n;
    grown[b->len] = '\0';
    b->data = grown;
    return size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    cli_reply_t *reply = arg;
    size_t len = size * n, prefix = strlen(DEPLOYMENT_HEADER);
    if (len > prefix && strncasecmp(data, DEPLOYMENT_HEADER, prefix) == 0) {
        const char *v = data + prefix;
        size_t vlen = len - prefix;
        while (vlen > 0 && (*v == ' ' || *v == '\t'))
            v++, vlen--;
        while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
            vlen--;
        if (vlen < sizeof(reply->deployment_id)) {
            memcpy(reply->deployment_id, v, vlen);
            reply->deployment_id[vlen] = '\0';
        }
    }
    return len;
}

/* Prints the error a non-2xx answer stands for, with the server's own message. */
static void report_status(const cli_server_t *server, long status, const buffer_t *body)
{
    json_t *json = body->len > 0 ? json_loadb(body->data, body->len, 0, NULL) : NULL;
    const char *message = cli_json_str(json, "message", NULL);
    if (message != NULL) {
        cli_error("%s answered %ld: %s", server->name, status, message);
        json_t *details = json_object_get(json, "details");
        if (json_is_string(details))
            fprintf(stderr, "  %s\n", json_string_value(details));
        size_t i;
        json_t *d;
        json_array_foreach(details, i, d)
        {
            json_t *errors = json_object_get(d, "errors"), *e;
            size_t k;
            json_array_foreach(errors, k, e)
                fprintf(stderr, "  %s: %s\n", cli_json_str(d, "path", "/"), json_string_value(e));
        }
    } else if (body->len > 0) {
        size_t len = body->len;
        while (len > 0 && (body->data[len - 1] == '\n' || body->data[len - 1] == '\r'))
            len--;
        cli_error("%s answered %ld: %.*s", server->name, status, (int)len, body->data);
    } else {
        cli_error("%s answered %ld", server->name, status);
    }
    json_decref(json);
}

/* The transfer itself; returns the curl code and fills errbuf. */
static CURLcode perform(const cli_server_t *server, const char *method, const char *path,
                        const char *body, buffer_t *out, cli_reply_t *reply, char *errbuf)
{
    size_t url_len = strlen(server->base) + strlen(path) + 1;
    char *url = malloc(url_len);
    CURL *curl = curl_easy_init();
    if (url == NULL || curl == NULL) {
        free(url);
        curl_easy_cleanup(curl);
        return CURLE_OUT_OF_MEMORY;
    }
    snprintf(url, url_len, "%s%s", server->base, path);
    struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/json");
    if (body != NULL)
        headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, reply);
    if (body != NULL)
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    CURLcode rc = curl_easy_perform(curl);
    if (rc == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply->status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    free(url);
    return rc;
}

int cli_http(const cli_server_t *server, const char *method, const char *path, const char *body,
             cli_reply_t *reply)
{
    memset(reply, 0, sizeof(*reply));
    buffer_t out = {0};
    char errbuf[CURL_ERROR_SIZE] = "";
    CURLcode rc = perform(server, method, path, body, &out, reply, errbuf);
    int result = -1;
    if (out.oom || rc == CURLE_OUT_OF_MEMORY) {
        cli_error("out of memory talking to %s", server->name);
    } else if (rc != CURLE_OK) {
        cli_error("cannot reach %s at %s: %s", server->name, server->base,
                  errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
    } else if (reply->status < 200 || reply->status > 299) {
        report_status(server, reply->status, &out);
    } else if (out.len == 0) {
        result = 0;
    } else {
        json_error_t jerr;
        reply->json = json_loadb(out.data, out.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
        if (reply->json == NULL)
            cli_error("%s sent an answer that is not JSON (%s): %.200s", server->name, jerr.text,
                      out.data);
        result = reply->json != NULL ? 0 : -1;
    }
    free(out.data);
    if (result != 0)
        reply->deployment_id[0] = '\0';
    return result;
}

void cli_reply_fini(cli_reply_t *reply)
{
    json_decref(reply->json);
    reply->json = NULL;
}

json_t *cli_http_get(const cli_server_t *server, const char *path)
{
    cli_reply_t reply;
    if (cli_http(server, "GET", path, NULL, &reply) != 0)
        return NULL;
    if (reply.json == NULL)
        cli_error("%s sent an empty answer to GET %s", server->name, path);
    return reply.json;
}

char *cli_url_escape(const char *s, const char *keep)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = malloc(strlen(s) * 3 + 1), *o = out;
    if (out == NULL)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p) != NULL || (keep != NULL && strchr(keep, *p) != NULL)) {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

int cli_server_set(cli_server_t *server, const char *name, const char *address)
{
    server->name = name;
    free(server->base);
    server->base = NULL;
    if (address == NULL || address[0] == '\0') {
        cli_error("the address of %s is empty", name);
        return -1;
    }
    if (strncmp(address, "zk://", 5) == 0) {
        cli_error("'%s': ZooKeeper addresses are not supported; give %s's host:port", address,
                  name);
        return -1;
    }
    bool has_scheme = strstr(address, "://") != NULL;
    if (asprintf(&server->base, "%s%s", has_scheme ? "" : "http://", address) < 0) {
        server->base = NULL;
        cli_error("out of memory");
        return -1;
    }
    size_t len = strlen(server->base);
    while (len > 0 && server->base[len - 1] == '/')
        server->base[--len] = '\0';
    return 0;
}
