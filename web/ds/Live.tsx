/** The polite live region: outcomes ("Account created") are announced and shown briefly. */
import { signal } from '@preact/signals';

const announcement = signal('');
let clearTimer: ReturnType<typeof setTimeout> | undefined;

export function announce(text: string): void {
  // Emptied first so that the same words twice are announced twice.
  announcement.value = '';
  clearTimeout(clearTimer);
  setTimeout(() => {
    announcement.value = text;
  }, 50);
  clearTimer = setTimeout(() => {
    announcement.value = '';
  }, 6000);
}

export function LiveRegion() {
  return (
    <div class="live" role="status" aria-live="polite">
      {announcement.value ? <span class="toast">{announcement.value}</span> : null}
    </div>
  );
}
