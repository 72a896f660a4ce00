/* The floor: the least work a client can do for a workload. libcurl with reused easy handles (one, or
 * one per concurrent slot on a multi handle), the same request headers as intercom-lua, the body copied
 * into a reused buffer and not parsed. URLs come from a file, one per line, in order (the floor does not
 * parse pages, so it is told the cursors).
 *
 *   floor URLS_FILE [-r REPEAT] [-c CONCURRENCY] [-b BODY_FILE]
 *
 * With -b every request is a POST of that body. One untimed warm-up request (the first URL) comes first,
 * as in every client. Prints {"ops": N, "seconds": S, "cpu_seconds": C, "bytes": B}. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>

typedef struct {
    char *data;
    size_t len, cap;
} sink;

static size_t bytes_total = 0;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    sink *s = (sink *)ud;
    size_t len = size * n;
    if (s->len + len > s->cap) {
        size_t cap = s->cap ? s->cap : 65536;
        while (cap < s->len + len) cap *= 2;
        s->data = realloc(s->data, cap);
        if (s->data == NULL) return 0;
        s->cap = cap;
    }
    memcpy(s->data + s->len, p, len);
    s->len += len;
    bytes_total += len;
    return len;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this process (user + system), for the workload alone. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *d;
    long n;
    if (f == NULL) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    d = malloc((size_t)n + 1);
    if (d == NULL || fread(d, 1, (size_t)n, f) != (size_t)n) { perror(path); exit(2); }
    d[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return d;
}

static struct curl_slist *headers = NULL;
static const char *body = NULL;
static size_t body_len = 0;

static void setup(CURL *e, const char *url, sink *s)
{
    s->len = 0;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)s);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    if (body != NULL) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    }
}

static void check(CURL *e, CURLcode rc)
{
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK || status != 200) {
        fprintf(stderr, "floor: request failed: %s, HTTP %ld\n", curl_easy_strerror(rc), status);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    size_t len, n_urls = 0, i, total, next = 0, done = 0;
    char *text, *p, **urls;
    int repeat = 1, concurrency = 1, a;
    double t0, t1, c0, c1;

    if (argc < 2) { fprintf(stderr, "usage: floor URLS_FILE [-r N] [-c N] [-b BODY_FILE]\n"); return 2; }
    for (a = 2; a + 1 < argc; a += 2) {
        if (strcmp(argv[a], "-r") == 0) repeat = atoi(argv[a + 1]);
        else if (strcmp(argv[a], "-c") == 0) concurrency = atoi(argv[a + 1]);
        else if (strcmp(argv[a], "-b") == 0) body = read_file(argv[a + 1], &body_len);
    }
    text = read_file(argv[1], &len);
    urls = malloc(sizeof(char *) * (len + 1));
    for (p = strtok(text, "\n"); p != NULL; p = strtok(NULL, "\n")) urls[n_urls++] = p;
    total = n_urls * (size_t)repeat;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    headers = curl_slist_append(headers, "Authorization: Bearer bench-token");
    headers = curl_slist_append(headers, "Intercom-Version: 2.12");
    headers = curl_slist_append(headers, "Accept: application/json");
    headers = curl_slist_append(headers, "User-Agent: floor");
    headers = curl_slist_append(headers, "Expect:");
    if (body != NULL) headers = curl_slist_append(headers, "Content-Type: application/json");

    if (concurrency <= 1) {
        CURL *e = curl_easy_init();
        sink s = { NULL, 0, 0 };
        setup(e, urls[0], &s);
        check(e, curl_easy_perform(e));
        bytes_total = 0;
        t0 = now();
        c0 = cpu_now();
        for (i = 0; i < total; i++) {
            setup(e, urls[i % n_urls], &s);
            check(e, curl_easy_perform(e));
        }
        curl_easy_cleanup(e);
        free(s.data);
    } else {
        CURLM *m = curl_multi_init();
        CURL **easy = calloc((size_t)concurrency, sizeof(CURL *));
        sink *sinks = calloc((size_t)concurrency, sizeof(sink));
        int running = 0, k;
        {
            CURL *w = curl_easy_init();     /* warm-up on its own handle: initialises libcurl's state */
            sink s = { NULL, 0, 0 };
            setup(w, urls[0], &s);
            check(w, curl_easy_perform(w));
            curl_easy_cleanup(w);
            free(s.data);
            bytes_total = 0;
        }
        t0 = now();
        c0 = cpu_now();
        for (k = 0; k < concurrency && next < total; k++) {
            easy[k] = curl_easy_init();
            curl_easy_setopt(easy[k], CURLOPT_PRIVATE, (void *)&sinks[k]);
            setup(easy[k], urls[next++ % n_urls], &sinks[k]);
            curl_multi_add_handle(m, easy[k]);
        }
        while (done < total) {
            CURLMsg *msg;
            int left;
            curl_multi_perform(m, &running);
            while ((msg = curl_multi_info_read(m, &left)) != NULL) {
                CURL *e = msg->easy_handle;
                sink *s = NULL;
                CURLcode rc = msg->data.result;
                if (msg->msg != CURLMSG_DONE) continue;
                curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&s);
                curl_multi_remove_handle(m, e);
                check(e, rc);
                done++;
                if (next < total) {
                    setup(e, urls[next++ % n_urls], s);
                    curl_multi_add_handle(m, e);
                }
            }
            if (done < total) curl_multi_poll(m, NULL, 0, 1000, NULL);
        }
        for (k = 0; k < concurrency; k++) {
            if (easy[k] != NULL) curl_easy_cleanup(easy[k]);
            free(sinks[k].data);
        }
        curl_multi_cleanup(m);
        free(easy);
        free(sinks);
    }
    t1 = now();
    c1 = cpu_now();
    printf("{\"ops\": %zu, \"seconds\": %.6f, \"cpu_seconds\": %.6f, \"bytes\": %zu}\n", total, t1 - t0, c1 - c0,
           bytes_total);
    curl_slist_free_all(headers);
    curl_global_cleanup();
    free(urls);
    free(text);
    return 0;
}
