/** DB-GPT's timestamp format, `YYYY-MM-DD HH:MM:SS` in the server's local time zone, from seconds since the epoch. */
export function formatTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
