/**
 * A link asks before it fetches from another site: the consent request the dialog shows
 * (./LinkConsent.tsx) and the origins the user chose to trust (kept in localStorage, so a trusted
 * site's links open without asking next time). The rules of what is asked about, fetched or
 * refused are in src/core/share/urlPolicy.ts.
 */
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import type { HostFiles } from '../../core/share/urlPolicy';

export const TRUST_KEY = 'voxelbench-trusted-hosts';

interface TrustState {
  /** Origins ('https://files.example') whose files links may load without asking. */
  origins: string[];
  trust(origins: readonly string[]): void;
  forget(origin: string): void;
}

export const useTrustStore = create<TrustState>()(
  persist(
    (set, get) => ({
      origins: [],
      trust: (origins) => set({ origins: [...new Set([...get().origins, ...origins])] }),
      forget: (origin) => set({ origins: get().origins.filter((o) => o !== origin) }),
    }),
    {
      name: TRUST_KEY,
      storage: createJSONStorage(() => localStorage),
      partialize: (s) => ({ origins: s.origins }),
      // a damaged entry trusts nothing
      merge: (saved, cur) => {
        const o = (saved as { origins?: unknown } | undefined)?.origins;
        return { ...cur, origins: Array.isArray(o) ? o.filter((x): x is string => typeof x === 'string' && /^https:\/\/[^/]+$/.test(x)) : [] };
      },
    },
  ),
);

export interface ConsentAnswer {
  load: boolean;
  /** Trust these hosts from now on (only with `load`). */
  trust: boolean;
}

export interface ConsentRequest {
  hosts: HostFiles[];
  answer(a: ConsentAnswer): void;
}

/** The request the dialog shows (null: none). */
export const useConsentStore = create<{ request: ConsentRequest | null }>()(() => ({ request: null }));

/** Shows the dialog for these hosts and resolves with the user's answer (a newer request cancels an older one). */
export function askConsent(hosts: HostFiles[]): Promise<ConsentAnswer> {
  useConsentStore.getState().request?.answer({ load: false, trust: false });
  return new Promise((resolve) => {
    const request: ConsentRequest = {
      hosts,
      answer: (a) => {
        if (useConsentStore.getState().request === request) useConsentStore.setState({ request: null });
        if (a.load && a.trust) useTrustStore.getState().trust(hosts.map((h) => h.origin));
        resolve({ load: a.load, trust: a.load && a.trust });
      },
    };
    useConsentStore.setState({ request });
  });
}
