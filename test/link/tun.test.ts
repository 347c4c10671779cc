import { describe, expect, it } from 'vitest';
import type { NativeError } from '../../src/link/native';
import { withAdvice } from '../../src/link/tun';

function nativeError(message: string, code: string, syscall: string): NativeError {
  const e: NativeError = new Error(message);
  e.code = code;
  e.syscall = syscall;
  return e;
}

describe('TunLink.open advice (withAdvice)', () => {
  it('puts the advice before the addon’s "(CODE: strerror)" tail, as the messages always read', () => {
    const busy = withAdvice(nativeError('cannot attach TUN device "tq0": the device is in use by another process (EBUSY: Device or resource busy)', 'EBUSY', 'TUNSETIFF'));
    expect(busy.message).toBe('cannot attach TUN device "tq0": the device is in use by another process (is another tunqos running on it?) (EBUSY: Device or resource busy)');
    const perm = withAdvice(nativeError('cannot open /dev/net/tun (EACCES: Permission denied)', 'EACCES', 'open'));
    expect(perm.message).toBe('cannot open /dev/net/tun (run as root or with CAP_NET_ADMIN) (EACCES: Permission denied)');
  });

  it('leaves errors without advice as they are', () => {
    const msg = 'cannot attach TUN device "x": the name belongs to a device that is not a TUN with these flags (EINVAL: Invalid argument)';
    expect(withAdvice(nativeError(msg, 'EINVAL', 'TUNSETIFF')).message).toBe(msg);
  });
});
