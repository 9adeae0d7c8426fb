import { TokenRejectedError } from './auth-failure';

export interface JwksKey {
  kid?: string;
  /** PEM, as jsonwebtoken takes it. */
  publicKey: string;
}

export interface JwksKeySetOptions {
  /** At most one fetch per this interval, however many tokens ask: unknown kids cannot exhaust a budget. */
  minRefetchMs: number;
  /** Keys older than this are fetched again before use, so a key removed from the set stops working. */
  maxAgeMs: number;
  /** A kid a fresh fetch did not have is answered from memory this long. */
  unknownKidTtlMs: number;
  maxUnknownKids: number;
  now?: () => number;
}

/** A JWKS fetched on demand, throttled, never poisoned by throttled kids: docs/architecture.md#authentication. */
export class JwksKeySet {
  private keys: JwksKey[] = [];
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private attemptedAt = Number.NEGATIVE_INFINITY;
  private lastError: unknown;
  private inFlight?: Promise<void>;
  /** kid → until when it is known to be unknown; oldest use first (a hit is re-inserted). */
  private readonly unknownKids = new Map<string, number>();
  private readonly now: () => number;

  constructor(
    private readonly fetchKeys: () => Promise<JwksKey[]>,
    private readonly options: JwksKeySetOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  async keyFor(kid: string | undefined): Promise<string> {
    if (this.isFresh()) {
      const key = this.lookUp(kid);
      if (key !== undefined) return key;
      if (kid !== undefined && this.isKnownUnknown(kid)) throw new TokenRejectedError('unknown_key');
    }
    const startedHere = await this.refresh();
    const key = this.lookUp(kid);
    if (key !== undefined) return key;
    if (startedHere && kid !== undefined) this.rememberUnknown(kid);
    throw new TokenRejectedError('unknown_key');
  }

  private isFresh(): boolean {
    return this.now() - this.fetchedAt < this.options.maxAgeMs;
  }

  /** Like jwks-rsa: a token without a kid may use the only key of a one-key set. */
  private lookUp(kid: string | undefined): string | undefined {
    if (kid === undefined) return this.keys.length === 1 ? this.keys[0].publicKey : undefined;
    return this.keys.find((key) => key.kid === kid)?.publicKey;
  }

  /** Resolves true when this call started a fetch that succeeded; rethrows a failed fetch's error until the next one. */
  private async refresh(): Promise<boolean> {
    if (this.inFlight !== undefined) {
      await this.inFlight;
      return false;
    }
    if (this.now() - this.attemptedAt < this.options.minRefetchMs) {
      if (this.lastError !== undefined) throw this.lastError;
      return false;
    }
    this.attemptedAt = this.now();
    this.inFlight = this.fetch().finally(() => {
      this.inFlight = undefined;
    });
    await this.inFlight;
    return true;
  }

  private async fetch(): Promise<void> {
    try {
      this.keys = await this.fetchKeys();
      this.fetchedAt = this.now();
      this.lastError = undefined;
    } catch (error) {
      this.lastError = error;
      throw error;
    }
  }

  private isKnownUnknown(kid: string): boolean {
    const until = this.unknownKids.get(kid);
    if (until === undefined) return false;
    this.unknownKids.delete(kid);
    if (until <= this.now()) return false;
    this.unknownKids.set(kid, until);
    return true;
  }

  private rememberUnknown(kid: string): void {
    this.unknownKids.delete(kid);
    this.unknownKids.set(kid, this.now() + this.options.unknownKidTtlMs);
    if (this.unknownKids.size > this.options.maxUnknownKids) {
      this.unknownKids.delete(this.unknownKids.keys().next().value as string);
    }
  }
}
