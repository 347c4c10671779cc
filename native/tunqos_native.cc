// tunqos native addon: the mechanism the JS forwarder cannot have without C.
//
// What it offers (ARCHITECTURE.md, "The native addon"):
//   openTun(name, {multiQueue}) -> {fd, name}   /dev/net/tun + TUNSETIFF (IFF_TUN | IFF_NO_PI), non-blocking
//   readBatch(fd, arena, slotSize, ids, lens, n, out) -> count    read() into arena slots, one call per batch
//   writeBatch(fd, arena, slotSize, ids, lens, n, out) -> consumed write() out of arena slots
//   discard(fd, max) -> count                    read and throw away (the arena is full: drop at the door)
//   ifMtu(name) -> number                        SIOCGIFMTU
//   errnoName(errno) -> string                   'EBUSY', ... ('EUNKNOWN' for the rest): the one errno table
//   close(fd)
//   new Poller(fd, cb)  start()/stop()/close()   uv_poll on the fd, cb() when readable
//   new Timer(cb)       arm(absNs[, periodNs])/disarm()/close()   timerfd(CLOCK_MONOTONIC, absolute) watched
//                       by uv_poll; with a period it fires again every periodNs until re-armed or disarmed
//
// Errors are JS Errors with `.code` (errno name, e.g. 'EBUSY'), `.errno` and, where a person may need
// telling what to do, `.syscall` (the call that failed): the messages state what failed, and the advice
// to a person ("run as root ...") is added by the JS caller (src/link/tun.ts TunLink.open). Built with
// NAPI_DISABLE_CPP_EXCEPTIONS, so every failure path throws explicitly and returns.
//
// The arena: the batch functions take the arena's ArrayBuffer and typed arrays as arguments on every
// call and keep no reference between calls (one N-API call per batch either way).
//
// The per-batch functions never throw on I/O errors: they stop and report the errno in out[0] (the hot
// path counts, it does not catch). A read longer than a slot is taken with readv() into the slot plus a
// scratch buffer, so the true length is known; lens[id] then exceeds slotSize and the JS link drops it.
#include <napi.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <string>

namespace {

// Where oversize reads spill (never looked at). One per process: the event loop is single-threaded.
constexpr size_t kScratchSize = 65536 + 64;
static unsigned char g_scratch[kScratchSize];

const char* ErrnoName(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case ENODEV: return "ENODEV";
    case EINVAL: return "EINVAL";
    case ENFILE: return "ENFILE";
    case EMFILE: return "EMFILE";
    case ENOTTY: return "ENOTTY";
    case ENOSPC: return "ENOSPC";
    case EMSGSIZE: return "EMSGSIZE";
    case ENOBUFS: return "ENOBUFS";
    case EBADFD: return "EBADFD";
    case ENXIO: return "ENXIO";
    case ENETDOWN: return "ENETDOWN";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return "EUNKNOWN";
  }
}

// Throws a JS Error carrying code/errno (and the failing call, when given). The message ends with
// " (CODE: strerror)". Caller returns right after.
void ThrowErrno(Napi::Env env, int e, const std::string& message, const char* syscall = nullptr) {
  Napi::Error err = Napi::Error::New(env, message + " (" + ErrnoName(e) + ": " + strerror(e) + ")");
  err.Set("code", Napi::String::New(env, ErrnoName(e)));
  err.Set("errno", Napi::Number::New(env, e));
  if (syscall != nullptr) err.Set("syscall", Napi::String::New(env, syscall));
  err.ThrowAsJavaScriptException();
}

void ThrowCode(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  err.ThrowAsJavaScriptException();
}

// An exception raised by a JS callback run from a libuv callback has no JS caller to go to: hand it to
// Node as an uncaught exception, as a throwing timer callback would be.
void ReportPending(Napi::Env env) {
  if (env.IsExceptionPending()) {
    Napi::Error e = env.GetAndClearPendingException();
    napi_fatal_exception(env, e.Value());
  }
}

// A valid Linux interface name: 1..15 bytes, no '/', ':' or whitespace (dev_valid_name()).
bool ValidIfName(const std::string& name, std::string* why) {
  if (name.empty()) { *why = "is empty"; return false; }
  if (name.size() >= IFNAMSIZ) { *why = "is longer than 15 characters"; return false; }
  if (name == "." || name == "..") { *why = "is reserved"; return false; }
  for (unsigned char c : name) {
    if (c == '/' || c == ':' || c <= ' ' || c == 0x7f) { *why = "contains '/', ':', whitespace or a control character"; return false; }
  }
  return true;
}

int IntArg(const Napi::CallbackInfo& info, size_t i, const char* what, bool* ok) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    Napi::TypeError::New(info.Env(), std::string(what) + " must be a number").ThrowAsJavaScriptException();
    *ok = false;
    return -1;
  }
  return info[i].As<Napi::Number>().Int32Value();
}

// The interface name in info[0]: a string that is a valid Linux interface name, or a thrown
// TypeError (naming `usage`) / EINVAL error (naming the name and why) and false.
bool IfNameArg(const Napi::CallbackInfo& info, const char* usage, std::string* name) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, std::string(usage) + ": name must be a string").ThrowAsJavaScriptException();
    return false;
  }
  *name = info[0].As<Napi::String>().Utf8Value();
  std::string why;
  if (!ValidIfName(*name, &why)) {
    ThrowCode(env, "EINVAL", "invalid interface name \"" + *name + "\": " + why);
    return false;
  }
  return true;
}

// ---- openTun ---------------------------------------------------------------------------------------

Napi::Value OpenTun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name;
  if (!IfNameArg(info, "openTun(name, options)", &name)) return env.Undefined();
  bool multiQueue = false;
  if (info.Length() > 1 && info[1].IsObject()) {
    Napi::Value mq = info[1].As<Napi::Object>().Get("multiQueue");
    multiQueue = mq.IsBoolean() && mq.As<Napi::Boolean>().Value();
  }
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    ThrowErrno(env, e, "cannot open /dev/net/tun", "open");
    return env.Undefined();
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (multiQueue ? IFF_MULTI_QUEUE : 0);
  memcpy(ifr.ifr_name, name.data(), name.size());
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int e = errno;
    close(fd);
    std::string msg = "cannot attach TUN device \"" + name + "\"";
    if (e == EBUSY) msg += ": the device is in use by another process";
    else if (e == EPERM) msg += ": permission denied";
    else if (e == EINVAL) msg += ": the name belongs to a device that is not a TUN with these flags";
    ThrowErrno(env, e, msg, "TUNSETIFF");
    return env.Undefined();
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("fd", Napi::Number::New(env, fd));
  result.Set("name", Napi::String::New(env, ifr.ifr_name));
  return result;
}

Napi::Value IfMtu(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name;
  if (!IfNameArg(info, "ifMtu(name)", &name)) return env.Undefined();
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    ThrowErrno(env, errno, "socket()");
    return env.Undefined();
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, name.data(), name.size());
  int rc = ioctl(s, SIOCGIFMTU, &ifr);
  int e = errno;
  close(s);
  if (rc < 0) {
    ThrowErrno(env, e, "cannot read the MTU of \"" + name + "\"");
    return env.Undefined();
  }
  return Napi::Number::New(env, ifr.ifr_mtu);
}

Napi::Value ErrnoNameJs(const Napi::CallbackInfo& info) {
  bool ok = true;
  int e = IntArg(info, 0, "errno", &ok);
  if (!ok) return info.Env().Undefined();
  return Napi::String::New(info.Env(), ErrnoName(e));
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  bool ok = true;
  int fd = IntArg(info, 0, "fd", &ok);
  if (!ok) return info.Env().Undefined();
  if (fd >= 0 && close(fd) < 0 && errno != EINTR) {
    ThrowErrno(info.Env(), errno, "close(" + std::to_string(fd) + ")");
  }
  return info.Env().Undefined();
}

// ---- batches ----------------------------------------------------------------------------------------

struct BatchArgs {
  int fd;
  unsigned char* base;
  size_t arenaBytes;
  size_t slotSize;
  int32_t* ids;
  size_t idsLen;
  uint32_t* lens;
  size_t lensLen;
  size_t n;
  int32_t* out;  // out[0] = errno of the error that stopped or skipped (0: none)
  size_t outLen;
};

bool ParseBatch(const Napi::CallbackInfo& info, const char* fn, BatchArgs* a) {
  Napi::Env env = info.Env();
  if (info.Length() < 6 || !info[0].IsNumber() || !info[1].IsArrayBuffer() || !info[2].IsNumber() ||
      !info[3].IsTypedArray() || !info[4].IsTypedArray() || !info[5].IsNumber()) {
    Napi::TypeError::New(env, std::string(fn) + "(fd, arenaBuffer, slotSize, ids: Int32Array, lens: Uint32Array, n[, out: Int32Array])")
        .ThrowAsJavaScriptException();
    return false;
  }
  Napi::TypedArray idsT = info[3].As<Napi::TypedArray>();
  Napi::TypedArray lensT = info[4].As<Napi::TypedArray>();
  if (idsT.TypedArrayType() != napi_int32_array || lensT.TypedArrayType() != napi_uint32_array) {
    Napi::TypeError::New(env, std::string(fn) + ": ids must be an Int32Array and lens a Uint32Array").ThrowAsJavaScriptException();
    return false;
  }
  Napi::ArrayBuffer ab = info[1].As<Napi::ArrayBuffer>();
  a->fd = info[0].As<Napi::Number>().Int32Value();
  a->base = static_cast<unsigned char*>(ab.Data());
  a->arenaBytes = ab.ByteLength();
  int64_t slot = info[2].As<Napi::Number>().Int64Value();
  int64_t n = info[5].As<Napi::Number>().Int64Value();
  Napi::Int32Array ids = info[3].As<Napi::Int32Array>();
  Napi::Uint32Array lens = info[4].As<Napi::Uint32Array>();
  a->ids = ids.Data();
  a->idsLen = ids.ElementLength();
  a->lens = lens.Data();
  a->lensLen = lens.ElementLength();
  if (slot <= 0 || n < 0) {
    Napi::RangeError::New(env, std::string(fn) + ": slotSize must be positive and n not negative").ThrowAsJavaScriptException();
    return false;
  }
  a->slotSize = static_cast<size_t>(slot);
  a->n = static_cast<size_t>(n) < a->idsLen ? static_cast<size_t>(n) : a->idsLen;
  a->out = nullptr;
  a->outLen = 0;
  if (info.Length() > 6 && info[6].IsTypedArray()) {
    Napi::TypedArray outT = info[6].As<Napi::TypedArray>();
    if (outT.TypedArrayType() == napi_int32_array) {
      Napi::Int32Array out = info[6].As<Napi::Int32Array>();
      a->out = out.Data();
      a->outLen = out.ElementLength();
    }
  }
  if (a->out != nullptr && a->outLen > 0) a->out[0] = 0;
  return true;
}

// A slot id is usable when its bytes lie inside the arena and it has a length entry.
inline bool SlotOk(const BatchArgs& a, int32_t id) {
  return id >= 0 && static_cast<size_t>(id) < a.lensLen && (static_cast<size_t>(id) + 1) * a.slotSize <= a.arenaBytes;
}

inline void SetErr(const BatchArgs& a, int e) {
  if (a.out != nullptr && a.outLen > 0) a.out[0] = e;
}

Napi::Value ReadBatch(const Napi::CallbackInfo& info) {
  BatchArgs a;
  if (!ParseBatch(info, "readBatch", &a)) return info.Env().Undefined();
  size_t count = 0;
  while (count < a.n) {
    int32_t id = a.ids[count];
    if (!SlotOk(a, id)) {
      SetErr(a, EINVAL);
      break;
    }
    struct iovec iov[2];
    iov[0].iov_base = a.base + static_cast<size_t>(id) * a.slotSize;
    iov[0].iov_len = a.slotSize;
    iov[1].iov_base = g_scratch;
    iov[1].iov_len = kScratchSize;
    ssize_t r = readv(a.fd, iov, 2);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) SetErr(a, errno);
      break;
    }
    // r > slotSize: the tail went to the scratch buffer; the JS link sees len > slotSize and drops it.
    a.lens[id] = static_cast<uint32_t>(r);
    count++;
  }
  return Napi::Number::New(info.Env(), static_cast<double>(count));
}

// Returns how many ids were consumed (sent or skipped on error); stops early only on EAGAIN/ENOBUFS.
// out[1] receives the number skipped because of errors, out[2] the bytes written (a batch is far below
// 2^31 bytes).
Napi::Value WriteBatch(const Napi::CallbackInfo& info) {
  BatchArgs a;
  if (!ParseBatch(info, "writeBatch", &a)) return info.Env().Undefined();
  size_t i = 0;
  int32_t errors = 0;
  int64_t bytes = 0;
  while (i < a.n) {
    int32_t id = a.ids[i];
    if (!SlotOk(a, id) || a.lens[id] > a.slotSize) {
      SetErr(a, EINVAL);
      errors++;
      i++;
      continue;
    }
    ssize_t w = write(a.fd, a.base + static_cast<size_t>(id) * a.slotSize, a.lens[id]);
    if (w < 0) {
      int e = errno;
      if (e == EINTR) continue;
      if (e == EAGAIN || e == ENOBUFS) {
        SetErr(a, e);
        break;
      }
      SetErr(a, e);
      errors++;
    } else {
      bytes += w;
    }
    i++;
  }
  if (a.out != nullptr && a.outLen > 1) a.out[1] = errors;
  if (a.out != nullptr && a.outLen > 2) a.out[2] = static_cast<int32_t>(bytes);
  return Napi::Number::New(info.Env(), static_cast<double>(i));
}

Napi::Value Discard(const Napi::CallbackInfo& info) {
  bool ok = true;
  int fd = IntArg(info, 0, "fd", &ok);
  if (!ok) return info.Env().Undefined();
  int max = IntArg(info, 1, "max", &ok);
  if (!ok) return info.Env().Undefined();
  int count = 0;
  while (count < max) {
    ssize_t r = read(fd, g_scratch, kScratchSize);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    count++;
  }
  return Napi::Number::New(info.Env(), count);
}

// ---- uv_poll holder ---------------------------------------------------------------------------------
//
// The uv_poll_t lives in its own heap block so that it can outlive its JS wrapper: uv_close() is
// asynchronous, and the block is freed in the close callback.

struct PollBlock {
  uv_poll_t handle;
  void* owner;  // Poller* or Timer*, nullptr once the wrapper is gone
};

void FreeBlock(uv_handle_t* h) { delete reinterpret_cast<PollBlock*>(h->data); }

// A new block watching `fd` on the environment's loop for `owner`, or null after throwing (`what` names
// the failure: "Poller: uv_poll_init failed"). Shared by Poller and Timer.
PollBlock* NewPollBlock(Napi::Env env, int fd, void* owner, const char* who, const char* what) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    Napi::Error::New(env, std::string(who) + ": no event loop").ThrowAsJavaScriptException();
    return nullptr;
  }
  PollBlock* block = new PollBlock();
  block->owner = owner;
  block->handle.data = block;
  int rc = uv_poll_init(loop, &block->handle, fd);
  if (rc != 0) {
    delete block;
    ThrowCode(env, uv_err_name(rc), std::string(what) + ": " + uv_strerror(rc));
    return nullptr;
  }
  return block;
}

// Stops watching, detaches the wrapper (a callback already queued then sees owner == nullptr) and lets
// libuv free the block once the handle is closed; `block` is null afterwards. Shared by Poller and Timer.
void ReleaseBlock(PollBlock*& block) {
  if (block == nullptr) return;
  uv_poll_stop(&block->handle);
  block->owner = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&block->handle), FreeBlock);
  block = nullptr;
}

// ---- Poller -----------------------------------------------------------------------------------------

class Poller : public Napi::ObjectWrap<Poller> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Poller",
                       {InstanceMethod<&Poller::Start>("start"), InstanceMethod<&Poller::Stop>("stop"),
                        InstanceMethod<&Poller::CloseJs>("close")});
  }

  Poller(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Poller>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsFunction()) {
      Napi::TypeError::New(env, "new Poller(fd, callback)").ThrowAsJavaScriptException();
      return;
    }
    env_ = env;
    fd_ = info[0].As<Napi::Number>().Int32Value();
    cb_ = Napi::Persistent(info[1].As<Napi::Function>());
    block_ = NewPollBlock(env, fd_, this, "Poller", "Poller: uv_poll_init failed");
  }

  ~Poller() override { Release(); }

 private:
  static void OnPoll(uv_poll_t* h, int status, int events) {
    PollBlock* b = reinterpret_cast<PollBlock*>(h->data);
    Poller* self = reinterpret_cast<Poller*>(b->owner);
    if (self == nullptr) return;
    Napi::HandleScope scope(self->env_);
    // status < 0 (e.g. the fd went bad): still call back; the read reports the error.
    self->cb_.MakeCallback(self->env_.Global(), {}, nullptr);
    ReportPending(self->env_);
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    if (block_ == nullptr) {
      ThrowCode(info.Env(), "EBADF", "Poller is closed");
      return info.Env().Undefined();
    }
    int rc = uv_poll_start(&block_->handle, UV_READABLE, &Poller::OnPoll);
    if (rc != 0) ThrowCode(info.Env(), uv_err_name(rc), std::string("uv_poll_start: ") + uv_strerror(rc));
    return info.Env().Undefined();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (block_ != nullptr) uv_poll_stop(&block_->handle);
    return info.Env().Undefined();
  }

  Napi::Value CloseJs(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
  }

  void Release() {
    ReleaseBlock(block_);
    if (!cb_.IsEmpty()) cb_.Reset();
  }

  Napi::Env env_ = Napi::Env(nullptr);
  int fd_ = -1;
  Napi::FunctionReference cb_;
  PollBlock* block_ = nullptr;
};

// ---- Timer ------------------------------------------------------------------------------------------
//
// A timerfd on CLOCK_MONOTONIC (the clock process.hrtime() reads), armed with absolute deadlines.
// The uv_poll watching it is started once; it is ref'd only while armed, so an idle timer does not keep
// the process alive and arming costs one timerfd_settime() (no epoll_ctl). A periodic timer (the
// forwarder's keep-warm ticks) stays armed after it fires, so a tick costs the read() of the timerfd
// and no timerfd_settime().

class Timer : public Napi::ObjectWrap<Timer> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Timer",
                       {InstanceMethod<&Timer::Arm>("arm"), InstanceMethod<&Timer::Disarm>("disarm"),
                        InstanceMethod<&Timer::CloseJs>("close")});
  }

  Timer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Timer>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsFunction()) {
      Napi::TypeError::New(env, "new Timer(callback)").ThrowAsJavaScriptException();
      return;
    }
    env_ = env;
    cb_ = Napi::Persistent(info[0].As<Napi::Function>());
    fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd_ < 0) {
      ThrowErrno(env, errno, "timerfd_create");
      return;
    }
    block_ = NewPollBlock(env, fd_, this, "Timer", "Timer: uv_poll failed");
    if (block_ == nullptr) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    int rc = uv_poll_start(&block_->handle, UV_READABLE, &Timer::OnPoll);
    if (rc != 0) {
      ReleaseBlock(block_);  // initialised: closed through libuv, not deleted
      ::close(fd_);
      fd_ = -1;
      ThrowCode(env, uv_err_name(rc), std::string("Timer: uv_poll failed: ") + uv_strerror(rc));
      return;
    }
    uv_unref(reinterpret_cast<uv_handle_t*>(&block_->handle));
  }

  ~Timer() override { Release(); }

 private:
  static void OnPoll(uv_poll_t* h, int status, int events) {
    PollBlock* b = reinterpret_cast<PollBlock*>(h->data);
    Timer* self = reinterpret_cast<Timer*>(b->owner);
    if (self == nullptr) return;
    uint64_t expirations = 0;
    ssize_t r = read(self->fd_, &expirations, sizeof expirations);
    if (r != static_cast<ssize_t>(sizeof expirations)) return;  // EAGAIN: disarmed or re-armed meanwhile
    if (!self->periodic_) {
      self->armed_ = false;
      uv_unref(reinterpret_cast<uv_handle_t*>(h));
    }
    Napi::HandleScope scope(self->env_);
    self->cb_.MakeCallback(self->env_.Global(), {}, nullptr);
    ReportPending(self->env_);
  }

  Napi::Value Arm(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) {
      ThrowCode(env, "EBADF", "Timer is closed");
      return env.Undefined();
    }
    if (info.Length() < 1 || !info[0].IsNumber() || (info.Length() > 1 && !info[1].IsNumber() && !info[1].IsUndefined())) {
      Napi::TypeError::New(env, "Timer.arm(absoluteNs: number, periodNs?: number)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    double ns = info[0].As<Napi::Number>().DoubleValue();
    if (!(ns >= 1)) ns = 1;  // 0 would disarm; anything in the past fires at once
    if (ns > 9.0e18) ns = 9.0e18;
    double period = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : 0;
    if (!(period >= 0) || period > 9.0e18) period = 0;
    int64_t whole = static_cast<int64_t>(ns);
    int64_t every = static_cast<int64_t>(period);
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    its.it_value.tv_sec = static_cast<time_t>(whole / 1000000000LL);
    its.it_value.tv_nsec = static_cast<long>(whole % 1000000000LL);
    if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0) its.it_value.tv_nsec = 1;
    its.it_interval.tv_sec = static_cast<time_t>(every / 1000000000LL);
    its.it_interval.tv_nsec = static_cast<long>(every % 1000000000LL);
    if (timerfd_settime(fd_, TFD_TIMER_ABSTIME, &its, nullptr) < 0) {
      ThrowErrno(env, errno, "timerfd_settime");
      return env.Undefined();
    }
    periodic_ = every > 0;
    if (!armed_) {
      armed_ = true;
      uv_ref(reinterpret_cast<uv_handle_t*>(&block_->handle));
    }
    return env.Undefined();
  }

  Napi::Value Disarm(const Napi::CallbackInfo& info) {
    if (fd_ >= 0 && armed_) {
      struct itimerspec its;
      memset(&its, 0, sizeof its);
      timerfd_settime(fd_, 0, &its, nullptr);
      armed_ = false;
      periodic_ = false;
      uv_unref(reinterpret_cast<uv_handle_t*>(&block_->handle));
    }
    return info.Env().Undefined();
  }

  Napi::Value CloseJs(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
  }

  void Release() {
    ReleaseBlock(block_);
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    armed_ = false;
    periodic_ = false;
    if (!cb_.IsEmpty()) cb_.Reset();
  }

  Napi::Env env_ = Napi::Env(nullptr);
  int fd_ = -1;
  bool armed_ = false;
  bool periodic_ = false;
  Napi::FunctionReference cb_;
  PollBlock* block_ = nullptr;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("openTun", Napi::Function::New(env, OpenTun, "openTun"));
  exports.Set("ifMtu", Napi::Function::New(env, IfMtu, "ifMtu"));
  exports.Set("errnoName", Napi::Function::New(env, ErrnoNameJs, "errnoName"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("readBatch", Napi::Function::New(env, ReadBatch, "readBatch"));
  exports.Set("writeBatch", Napi::Function::New(env, WriteBatch, "writeBatch"));
  exports.Set("discard", Napi::Function::New(env, Discard, "discard"));
  exports.Set("Poller", Poller::Define(env));
  exports.Set("Timer", Timer::Define(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(tunqos_native, Init)
