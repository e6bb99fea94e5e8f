import { readdirSync, readlinkSync } from 'node:fs';

/** Open file descriptors of this process on delivery ZIPs under `dir` (Linux: /proc/self/fd). */
export function openZips(dir: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target.startsWith(dir) && target.endsWith('.zip');
    } catch {
      return false; // closed meanwhile
    }
  }).length;
}
