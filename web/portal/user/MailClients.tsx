/**
 * What a mail client needs (contract §7's configuration FAQ, for this user): the user name, which
 * password (an app password once 2FA is on), and the servers with their ports and encryption, from the
 * service's configuration (GET /api/me/client-settings); then the steps for Thunderbird, Apple Mail,
 * Outlook and phones with those values filled in.
 */
import { LinkButton } from '../../ds/Button.tsx';
import { CopyValue } from '../../ds/Copy.tsx';
import { Load, Table } from '../../ds/Data.tsx';
import { Page, Section } from '../../ds/Page.tsx';
import { api } from '../../lib/api.ts';
import { messages } from '../../lib/i18n.ts';
import { useResource } from '../../lib/resource.ts';
import { type ClientValues, user } from '../../messages/user.ts';
import type { ClientSettings } from './data.ts';

export default function MailClients() {
  const m = messages(user).clients;
  const [settings, reload] = useResource(() => api.get<ClientSettings>('/me/client-settings'));
  return (
    <Page title={m.title}>
      <p>{m.intro}</p>
      <Load resource={settings} retry={reload}>
        {(data) => <Settings data={data} />}
      </Load>
    </Page>
  );
}

function Settings({ data }: { data: ClientSettings }) {
  const m = messages(user).clients;
  const imap = data.servers.find((server) => server.protocol === 'imap');
  const smtp = data.servers.find((server) => server.protocol === 'smtp');
  const host = (imap ?? smtp ?? data.servers[0])?.host ?? '';
  const values: ClientValues = {
    username: data.username,
    host,
    imapPort: imap ? String(imap.port) : '—',
    imapSecurity: imap ? (m.securities[imap.security] ?? imap.security) : '—',
    smtpPort: smtp ? String(smtp.port) : '—',
    smtpSecurity: smtp ? (m.securities[smtp.security] ?? smtp.security) : '—',
    password: data.useAppPassword ? m.anAppPassword : m.yourPassword,
  };
  const clients = [
    { title: m.thunderbird, steps: m.thunderbirdSteps(values) },
    { title: m.apple, steps: m.appleSteps(values) },
    { title: m.outlook, steps: m.outlookSteps(values) },
    { title: m.phone, steps: m.phoneSteps(values) },
  ];
  return (
    <>
      <Section title={m.account}>
        <dl class="facts">
          <dt>{m.username}</dt>
          <dd>
            <CopyValue value={data.username} label={m.copyUser} />
          </dd>
          <dt>{m.password}</dt>
          <dd>{data.useAppPassword ? m.passwordApp : m.passwordAccount}</dd>
        </dl>
        {data.useAppPassword ? (
          <p>
            <LinkButton href="/me/app-passwords" variant="primary">
              {m.createAppPassword}
            </LinkButton>
          </p>
        ) : null}
      </Section>
      <Section title={m.servers}>
        {host ? <CopyValue value={host} label={m.copyHost} /> : null}
        {data.servers.length ? (
          <Table
            caption={m.serversCaption}
            rowKey={(row) => `${row.protocol}-${row.port}`}
            rows={data.servers}
            columns={[
              { label: m.protocol, cell: (row) => m.protocols[row.protocol] ?? row.protocol },
              { label: m.use, cell: (row) => m.uses[row.protocol] ?? '' },
              { label: m.server, cell: (row) => <span class="break-anywhere">{row.host}</span> },
              { label: m.port, numeric: true, cell: (row) => String(row.port) },
              { label: m.security, cell: (row) => m.securities[row.security] ?? row.security },
              { label: m.auth, cell: () => m.authValue },
            ]}
          />
        ) : (
          <p>{m.noServer}</p>
        )}
        <p>
          {m.webmail}: <a href={data.webUrl}>{data.webUrl}</a>
        </p>
      </Section>
      {clients.map((client) => (
        <Section key={client.title} title={client.title}>
          <ol>
            {client.steps.map((step) => (
              <li key={step}>{step}</li>
            ))}
          </ol>
        </Section>
      ))}
    </>
  );
}
