/**
 * One IMAP connection's state (RFC 3501 §3): who is logged in, which folder is selected, and which
 * extensions the client enabled. Protocol bytes live in connection.ts; this is the data commands use.
 */
import type { Language } from '../../shared/errors.ts';
import type { State } from './command.ts';
import type { SearchContexts } from './search-contexts.ts';
import type { SelectedMailbox } from './selected.ts';

export interface SessionAccount {
  id: string;
  customerId: string;
  address: string;
  language: Language;
}

export class Session {
  state: State = 'not-authenticated';
  account: SessionAccount | undefined;
  selected: SelectedMailbox | undefined;
  /** RFC 5267 §4.3: the searches with UPDATE on the selected folder (made at the first one). */
  searchContexts: SearchContexts | undefined;
  /** RFC 7162 §3.1: CONDSTORE enabled (ENABLE, SELECT (CONDSTORE), or a CONDSTORE-only fetch or search). */
  condstore = false;
  /** RFC 7162 §3.2: QRESYNC enabled (implies CONDSTORE); expunges are reported as VANISHED. */
  qresync = false;
  /** RFC 6855: UTF8=ACCEPT enabled: strings may carry UTF-8 quoted. */
  utf8 = false;

  constructor(
    readonly id: string,
    readonly remoteAddress: string,
    public secure: boolean,
  ) {}

  get language(): Language {
    return this.account?.language ?? 'en';
  }

  /** A text in the account's language (English before login). */
  say(texts: { en: string; fr: string }): string {
    return texts[this.language];
  }

  login(account: SessionAccount): void {
    this.account = account;
    this.state = 'authenticated';
  }

  select(mailbox: SelectedMailbox): void {
    this.selected = mailbox;
    this.searchContexts = undefined;
    this.state = 'selected';
  }

  /** Leaves the folder; RFC 5267 §4.3: its search contexts end with it. */
  unselect(): void {
    this.selected?.release();
    this.selected = undefined;
    this.searchContexts = undefined;
    if (this.state === 'selected') this.state = 'authenticated';
  }
}
