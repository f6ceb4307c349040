/*
** The floor under asyncio_bench's echo_rtt: the same line echo over
** loopback TCP, client and server on one epoll loop in one thread, making
** the same system calls a round trip as the cthreads loop does (the
** client's send, epoll_wait, the server's recv and send, epoll_wait, the
** client's recv) and nothing else. No event loop in any language can make
** a round trip of that shape cheaper, so python3's echo_rtt divided by
** this figure is the largest ratio the benchmark can show on the machine.
**   echo_floor [rounds=3] [scale=1]
** prints "echo_floor CPU WALL us/roundtrip", each the best of 'rounds',
** the line format of asyncio_bench.lua.
*/
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

static const char line[] = "hello, echo server\n";

static double clock_seconds (clockid_t id) {
  struct timespec t;
  clock_gettime(id, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void die (const char *what) {
  perror(what);
  exit(1);
}

/* nonblocking, Nagle off (as asyncio sets up its TCP transports) */
static void set_stream_options (int fd) {
  int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
    die("setsockopt");
  if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) die("fcntl");
}

/* a connected client socket and the server's accepted end */
static void connect_pair (int *client, int *server) {
  struct sockaddr_in a;
  socklen_t alen = sizeof a;
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (listener < 0 || bind(listener, (struct sockaddr *)&a, sizeof a) != 0 ||
      listen(listener, 1) != 0 ||
      getsockname(listener, (struct sockaddr *)&a, &alen) != 0)
    die("listen");
  *client = socket(AF_INET, SOCK_STREAM, 0);
  if (*client < 0 || connect(*client, (struct sockaddr *)&a, sizeof a) != 0)
    die("connect");
  *server = accept(listener, NULL, NULL);
  if (*server < 0) die("accept");
  close(listener);
  set_stream_options(*client);
  set_stream_options(*server);
}

/* waits until one of the sockets is readable, returns the ready one */
static int wait_readable (int ep) {
  struct epoll_event ev;
  while (epoll_wait(ep, &ev, 1, -1) != 1) {}
  return ev.data.fd;
}

/* 'n' round trips; sets the CPU and wall seconds they took */
static void echo_rounds (long n, double *cpu, double *wall) {
  char buf[4096];
  int client, server, ep;
  struct epoll_event ev;
  long i;
  double c0, w0;
  connect_pair(&client, &server);
  ep = epoll_create1(0);
  ev.events = EPOLLIN;
  ev.data.fd = client;
  if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, client, &ev) != 0) die("epoll");
  ev.data.fd = server;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, server, &ev) != 0) die("epoll");
  c0 = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
  w0 = clock_seconds(CLOCK_MONOTONIC);
  for (i = 0; i < n; i++) {
    ssize_t got;
    if (send(client, line, sizeof line - 1, 0) != (ssize_t)(sizeof line - 1))
      die("client send");
    if (wait_readable(ep) != server) die("server not ready");
    got = recv(server, buf, sizeof buf, 0);
    if (got != (ssize_t)(sizeof line - 1) || send(server, buf, (size_t)got, 0) != got)
      die("server echo");
    if (wait_readable(ep) != client) die("client not ready");
    if (recv(client, buf, sizeof buf, 0) != got) die("client recv");
  }
  *cpu = clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
  *wall = clock_seconds(CLOCK_MONOTONIC) - w0;
  close(ep);
  close(client);
  close(server);
}

int main (int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 3;
  double scale = argc > 2 ? atof(argv[2]) : 1.0;
  long n = (long)(20000 * scale);  /* asyncio_bench's RTT */
  double best_cpu = 1e300, best_wall = 1e300;
  int r;
  if (rounds < 1 || n < 1) {
    fprintf(stderr, "usage: echo_floor [rounds >= 1] [scale > 0]\n");
    return 2;
  }
  for (r = 0; r < rounds; r++) {
    double cpu, wall;
    echo_rounds(n, &cpu, &wall);
    if (cpu < best_cpu) best_cpu = cpu;
    if (wall < best_wall) best_wall = wall;
  }
  printf("echo_floor %.1f %.1f us/roundtrip\n", best_cpu / n * 1e6, best_wall / n * 1e6);
  return 0;
}
