// How the size of the writes that first fill a file changes the cost of
// overwriting it later with small records + fdatasync, as the engine's
// commit log does (engine/src/log/mod.rs, `write_in_pieces`): Linux caches
// the file in folios as large as those first writes (ext4, 6.16 on), and
// every later write and fdatasync walks all the blocks of the folios it
// touches.
//
// Usage (writes and deletes /tmp/folio.test):
//   gcc -O2 -o /tmp/log_folios benches/experiments/log_folios.c
//   for g in 1048576 32768 4096; do for r in 1100 17000 104000; do
//     /tmp/log_folios $g $r 2000; done; done
// Arguments: <bytes per first write> <record bytes> <records>. Fills 64 MiB
// with zeros in writes of the first size, fdatasync, then writes records one
// after another from offset 0 (wrapping), each followed by fdatasync, and
// prints the microseconds per record.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1e6+t.tv_nsec/1e3;}
int main(int c,char**v){
  size_t grow=atol(v[1]), rec=atol(v[2]); int ops=atoi(v[3]);
  const char*p="/tmp/folio.test"; unlink(p);
  int fd=open(p,O_RDWR|O_CREAT|O_TRUNC,0644);
  size_t cap=64<<20; char*z=calloc(1,grow);
  for(size_t o=0;o<cap;o+=grow) pwrite(fd,z,grow,o);
  fdatasync(fd);
  char*b=malloc(rec); memset(b,0x5d,rec);
  size_t pos=0; double t0=now();
  for(int i=0;i<ops;i++){ pwrite(fd,b,rec,pos); pos+=rec; if(pos+rec>cap)pos=0; fdatasync(fd);}
  double t=now()-t0; printf("grow %zu rec %zu: %.1f us/op\n",grow,rec,t/ops);
  close(fd); unlink(p); return 0;
}
