/** Customers (R-T1): searched and paged (there may be thousands), and created here. */
import { useState } from 'preact/hooks';
import { Button } from '../ds/Button.tsx';
import { Empty, Load, Pager, Status, Table } from '../ds/Data.tsx';
import { SelectField, TextField } from '../ds/Field.tsx';
import { Form, useForm } from '../ds/Form.tsx';
import { announce } from '../ds/Live.tsx';
import { Page, Section } from '../ds/Page.tsx';
import { api, query, seg } from '../lib/api.ts';
import { formatDate, messages } from '../lib/i18n.ts';
import { usePaged } from '../lib/resource.ts';
import { here, navigate, queryOf } from '../lib/router.ts';
import { ops } from '../messages/ops.ts';
import type { Customer } from './types.ts';

const PAGE = 25;

function NewCustomer() {
  const m = messages(ops).customers;
  const [name, setName] = useState('');
  const [contactEmail, setContactEmail] = useState('');
  const [language, setLanguage] = useState<'fr' | 'en'>('fr');
  const [phone, setPhone] = useState('');
  const form = useForm(async () => {
    const created = await api.post<Customer>('/customers', { name, contactEmail, language, ...(phone.trim() ? { phone: phone.trim() } : {}) });
    announce(m.created_);
    navigate(`/ops/customers/${seg(created.id)}`);
  });
  return (
    <Section title={m.newTitle}>
      <Form form={form} label={m.newTitle}>
        <TextField id="name" label={m.name} value={name} onValue={setName} error={form.errorFor('name')} maxLength={200} />
        <TextField id="contactEmail" label={m.contact} type="email" value={contactEmail} onValue={setContactEmail} error={form.errorFor('contactEmail')} />
        <SelectField
          id="language"
          label={m.language}
          value={language}
          onValue={setLanguage}
          options={[
            { value: 'fr', label: m.languages.fr },
            { value: 'en', label: m.languages.en },
          ]}
        />
        <TextField id="phone" label={m.phone} type="tel" optional value={phone} onValue={setPhone} error={form.errorFor('phone')} />
        <div class="form-actions">
          <Button type="submit" variant="primary" busy={form.busy}>
            {m.create}
          </Button>
        </div>
      </Form>
    </Section>
  );
}

export default function Customers() {
  const m = messages(ops).customers;
  const [search, setSearch] = useState(queryOf(here.value).q ?? '');
  const [applied, setApplied] = useState(search);
  const paged = usePaged((after) => api.get<{ items: Customer[]; next: string | null }>(`/customers${query({ q: applied, limit: PAGE, after })}`), [applied]);
  return (
    <Page title={m.title}>
      <form
        class="toolbar"
        aria-label={m.search}
        onSubmit={(event) => {
          event.preventDefault();
          setApplied(search.trim());
          navigate(`/ops/customers${query({ q: search.trim() })}`, { replace: true });
        }}
      >
        <TextField id="customer-search" type="search" label={m.searchLabel} hint={m.searchHint} optional value={search} onValue={setSearch} />
        <Button type="submit">{m.searchButton}</Button>
      </form>
      <Load resource={paged.page} retry={paged.reload}>
        {(data) =>
          data.items.length === 0 ? (
            <Empty title={m.empty}>
              <p>{m.emptyHint}</p>
            </Empty>
          ) : (
            <Table
              caption={m.caption}
              rows={data.items}
              rowKey={(c) => c.id}
              columns={[
                { label: m.name, cell: (c) => <a href={`/ops/customers/${seg(c.id)}`}>{c.name}</a> },
                { label: m.contact, cell: (c) => c.contactEmail },
                {
                  label: m.status,
                  cell: (c) => <Status tone={c.status === 'active' ? 'ok' : c.status === 'suspended' ? 'warn' : 'error'}>{m.statuses[c.status]}</Status>,
                },
                { label: m.created, cell: (c) => formatDate(c.createdAt) },
              ]}
            />
          )
        }
      </Load>
      <Pager label={m.caption} number={paged.number} previous={paged.previous} next={paged.next} />
      <NewCustomer />
    </Page>
  );
}
