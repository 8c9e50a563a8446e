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
// Arguments: <bytes per first write> <record bytes> <records> [evict [pad]].
// Fills 64 MiB with zeros in writes of the first size, fdatasync, then
// writes records one after another from offset 0 (wrapping), each followed
// by fdatasync, and prints the microseconds per record. With evict=1 the
// file's cached pages are dropped (POSIX_FADV_DONTNEED) before the records,
// as after a restart: a write covering part of an uncached page reads it
// first. With pad=1 each record is written with zeros up to the end of its
// last 4 KiB page, as the engine does, so no page is read back.
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
  int evict=c>4?atoi(v[4]):0, pad=c>5?atoi(v[5]):0;
  const char*p="/tmp/folio.test"; unlink(p);
  int fd=open(p,O_RDWR|O_CREAT|O_TRUNC,0644);
  size_t cap=64<<20; char*z=calloc(1,grow);
  for(size_t o=0;o<cap;o+=grow) pwrite(fd,z,grow,o);
  fdatasync(fd);
  if(evict) posix_fadvise(fd,0,0,POSIX_FADV_DONTNEED);
  char*b=calloc(1,rec+4096); memset(b,0x5d,rec);
  size_t pos=0; double t0=now();
  for(int i=0;i<ops;i++){
    size_t len=rec;
    if(pad){ size_t end=pos+rec, page_end=(end+4095)/4096*4096; len=(page_end>cap?cap:page_end)-pos; }
    pwrite(fd,b,len,pos); pos+=rec; if(pos+rec+4096>cap)pos=0; fdatasync(fd);}
  double t=now()-t0; printf("grow %zu rec %zu evict %d pad %d: %.1f us/op\n",grow,rec,evict,pad,t/ops);
  close(fd); unlink(p); return 0;
}
