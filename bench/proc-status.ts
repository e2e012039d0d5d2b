// Memory figures of a process from /proc/<pid>/status (Linux), in MB.
export type MemoryField = 'VmRSS' | 'VmHWM' | 'RssAnon' | 'RssFile';

export function statusMb(status: string, field: MemoryField): number {
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1]) / 1024;
}
