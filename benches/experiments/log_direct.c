// Whether O_DIRECT or RWF_DSYNC would make the engine's commit log cheaper
// to make durable than pwrite + fdatasync (docs/BENCHMARKS.md, "the 16-writer
// target measured side by side"): records written one after another into a
// 64 MiB file first filled with zeros 32 KiB at a time, as the engine's log
// is, each made durable before the next; prints microseconds per record.
//
// Usage (writes and deletes /tmp/direct.test):
//   gcc -O2 -o /tmp/log_direct benches/experiments/log_direct.c
//   for m in 0 1 2 3; do /tmp/log_direct $m 1100 3000; /tmp/log_direct $m 17000 3000; done
// Arguments: <mode> <record bytes> <records>.
// mode 0: buffered pwrite (zeros to page end) + fdatasync
// mode 1: buffered pwritev2(RWF_DSYNC)
// mode 2: O_DIRECT pwrite of the record's whole pages + fdatasync
// mode 3: O_DIRECT pwritev2(RWF_DSYNC) of the record's whole pages
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/uio.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1e6+t.tv_nsec/1e3;}
int main(int c,char**v){
  int mode=atoi(v[1]); size_t rec=atol(v[2]); int ops=atoi(v[3]);
  const char*p="/tmp/direct.test"; unlink(p);
  int fd=open(p,O_RDWR|O_CREAT|O_TRUNC,0644);
  size_t cap=64<<20, grow=32768; char*z=calloc(1,grow);
  for(size_t o=0;o<cap;o+=grow) pwrite(fd,z,grow,o);
  fdatasync(fd); close(fd);
  int direct = mode>=2;
  fd=open(p,O_RDWR|(direct?O_DIRECT:0));
  if(fd<0){perror("open");return 1;}
  char*b=NULL; if(posix_memalign((void**)&b,4096,rec+8192)){perror("posix_memalign");return 1;} memset(b,0,rec+8192);
  size_t pos=0; double t0=now();
  for(int i=0;i<ops;i++){
    size_t end=pos+rec, page_end=(end+4095)/4096*4096;
    size_t start= direct? pos/4096*4096 : pos;
    memset(b+(pos-start),0x5d,rec);
    struct iovec io={b,page_end-start};
    ssize_t w;
    if(mode==1||mode==3) w=pwritev2(fd,&io,1,start,RWF_DSYNC);
    else { w=pwrite(fd,b,page_end-start,start); fdatasync(fd);}
    if(w!=(ssize_t)(page_end-start)){perror("write");return 1;}
    if(direct){ // keep the partial tail page at the buffer's start
      size_t tail=end/4096*4096; memmove(b,b+(tail-start),end-tail);}
    pos=end; if(pos+rec+8192>cap)pos=0;}
  double t=now()-t0; printf("mode %d rec %zu: %.1f us/op\n",mode,rec,t/ops);
  close(fd); unlink(p); return 0;
}
