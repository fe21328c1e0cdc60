/** The message helpers every preset page uses (the page log and banner live in src/ui/store.ts). */
import { useStore } from '../store';

/** An error's message (or the thrown value as text). */
export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** True for what a cancel rejects with. */
export const isAbort = (e: unknown): boolean => (e as Error)?.name === 'AbortError' || /cancel/i.test(errorText(e));

/** A message in the page's log (and banner); `key` groups it so that it can be cleared. */
export function say(level: 'info' | 'warning' | 'error', text: string, key?: string): void {
  useStore.getState().addMessage(level, text, key ? { key } : undefined);
}

/** Clears the messages with this key. */
export function unsay(key: string): void {
  useStore.getState().clearMessages(key);
}
