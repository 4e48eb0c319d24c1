// Device discovery for the CUDA backend: how many usable devices, why none, what they are.
// cudart is linked statically; on a machine without a driver every runtime call returns an error
// (cudaErrorInsufficientDriver / cudaErrorNoDevice), which here becomes "no cuda backend" with a
// reason, never a crash.
#include <cuda_runtime.h>
#include <stdio.h>
#include <string.h>

#include "kx_cuda.h"

namespace kx {
namespace cuda {

namespace {

void put(char* buf, size_t len, const char* text) {
  if (buf == nullptr || len == 0) return;
  snprintf(buf, len, "%s", text);
}

bool usable(int dev, int* major_out, int* minor_out) {
  int major = 0, minor = 0, mode = 0;
  if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess ||
      cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev) != cudaSuccess ||
      cudaDeviceGetAttribute(&mode, cudaDevAttrComputeMode, dev) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  if (major_out) *major_out = major;
  if (minor_out) *minor_out = minor;
  if (mode == cudaComputeModeProhibited) return false;
  return major > kMinComputeMajor || (major == kMinComputeMajor && minor >= kMinComputeMinor);
}

// All devices cudaGetDeviceCount reports (0 with the reason when the call fails or finds none).
int raw_count(char* reason, size_t len) {
  int n = 0;  // not written by cudaGetDeviceCount on error
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e == cudaSuccess && n > 0) return n;
  cudaGetLastError();  // clear the (non-sticky) error
  int drv = 0, rt = 0;
  cudaDriverGetVersion(&drv);  // 0 when no driver is installed
  cudaRuntimeGetVersion(&rt);
  char buf[256];
  if (e == cudaSuccess) {
    snprintf(buf, sizeof buf, "no CUDA device");
  } else if (drv == 0) {
    snprintf(buf, sizeof buf, "no CUDA driver found");
  } else if (e == cudaErrorNoDevice) {
    snprintf(buf, sizeof buf, "no CUDA device");
  } else if (e == cudaErrorInsufficientDriver || drv < rt) {
    snprintf(buf, sizeof buf, "driver too old (driver API version %d < runtime %d)", drv, rt);
  } else {
    snprintf(buf, sizeof buf, "cudaGetDeviceCount: %s (%s)", cudaGetErrorString(e),
             cudaGetErrorName(e));
  }
  put(reason, len, buf);
  return 0;
}

}  // namespace

int device_count(char* reason, size_t reason_len) {
  const int n = raw_count(reason, reason_len);
  if (n == 0) return 0;
  int good = 0, major0 = 0, minor0 = 0;
  for (int d = 0; d < n; ++d) {
    int major = 0, minor = 0;
    if (usable(d, &major, &minor)) ++good;
    if (d == 0) major0 = major, minor0 = minor;
  }
  if (good == 0) {
    char buf[256];
    snprintf(buf, sizeof buf,
             "no usable CUDA device (%d found, device 0 has compute capability %d.%d; need >= "
             "%d.%d and a compute mode that allows work)",
             n, major0, minor0, kMinComputeMajor, kMinComputeMinor);
    put(reason, reason_len, buf);
  }
  return good;
}

int default_device(char* err, size_t errlen) {
  const int n = raw_count(err, errlen);
  for (int d = 0; d < n; ++d)
    if (usable(d, nullptr, nullptr)) return d;
  if (n > 0) device_count(err, errlen);  // writes the "no usable CUDA device" reason
  return -1;
}

void versions(int* runtime_version, int* driver_version) {
  int rt = 0, drv = 0;
  if (cudaRuntimeGetVersion(&rt) != cudaSuccess) rt = 0;
  if (cudaDriverGetVersion(&drv) != cudaSuccess) drv = 0;
  cudaGetLastError();
  if (runtime_version) *runtime_version = rt;
  if (driver_version) *driver_version = drv;
}

Status device_info(int device, char* name, size_t name_len, int* cc_major, int* cc_minor,
                   size_t* total_mem, char* err, size_t errlen) {
  char reason[256] = {0};
  const int n = raw_count(reason, sizeof reason);
  if (n == 0) {
    put(err, errlen, reason);
    return E_BACKEND;
  }
  if (device < 0 || device >= n) {
    char buf[128];
    snprintf(buf, sizeof buf, "device %d does not exist (%d CUDA device%s)", device, n,
             n == 1 ? "" : "s");
    put(err, errlen, buf);
    return E_RANGE;
  }
  cudaDeviceProp prop;
  const cudaError_t e = cudaGetDeviceProperties(&prop, device);
  if (e != cudaSuccess) {
    cudaGetLastError();
    char buf[256];
    snprintf(buf, sizeof buf, "cudaGetDeviceProperties(%d): %s (%s)", device, cudaGetErrorString(e),
             cudaGetErrorName(e));
    put(err, errlen, buf);
    return e == cudaErrorMemoryAllocation ? E_OOM : E_BACKEND;
  }
  put(name, name_len, prop.name);
  if (cc_major) *cc_major = prop.major;
  if (cc_minor) *cc_minor = prop.minor;
  if (total_mem) *total_mem = prop.totalGlobalMem;
  return OK;
}

Status device_name(int device, char* name, size_t len) {
  char err[256] = {0};
  const Status st = device_info(device, name, len, nullptr, nullptr, nullptr, err, sizeof err);
  if (st != OK) put(name, len, err);
  return st;
}

}  // namespace cuda
}  // namespace kx
