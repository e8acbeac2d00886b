/** The parts of mailauth (v4, no bundled types for its main module) that Facteur uses. */
declare module 'mailauth' {
  import type { Readable } from 'node:stream';

  export interface AuthStatus {
    result: 'pass' | 'fail' | 'none' | 'neutral' | 'softfail' | 'temperror' | 'permerror' | 'policy' | string;
    comment?: string;
    aligned?: string | false;
  }

  export interface AuthenticateOptions {
    ip?: string;
    helo?: string;
    sender?: string;
    mta?: string;
    resolver?: (name: string, rrtype: string) => Promise<unknown>;
    disableArc?: boolean;
    disableDmarc?: boolean;
    disableBimi?: boolean;
    trustReceived?: boolean;
    minBitLength?: number;
    seal?: { signingDomain: string; selector: string; privateKey: string | Buffer };
  }

  export interface AuthenticateResult {
    dkim: { headerFrom?: string[]; results?: { signingDomain: string; selector: string; status: AuthStatus; info: string }[] };
    spf: { status: AuthStatus; domain?: string; info: string; header: string } | false;
    dmarc: { status: AuthStatus; domain?: string; policy?: string; p?: string; info?: string } | false;
    arc: { status: AuthStatus; i?: number } | false;
    bimi?: unknown;
    receivedChain?: unknown[];
    /** Received-SPF, Authentication-Results (and ARC headers when sealing): to prepend, CRLF-terminated. */
    headers: string;
  }

  export function authenticate(input: Buffer | string | Readable, options?: AuthenticateOptions): Promise<AuthenticateResult>;
}

declare module 'mailauth/lib/dkim/sign.js' {
  import type { Readable } from 'node:stream';
  export function dkimSign(
    input: Buffer | string | Readable,
    options: {
      canonicalization?: string;
      algorithm?: string;
      signTime?: Date;
      signatureData: { signingDomain: string; selector: string; privateKey: string | Buffer; algorithm?: string; canonicalization?: string }[];
    },
  ): Promise<{ signatures: string; errors: unknown[] }>;
}
