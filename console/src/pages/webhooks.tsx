import { useState, type FormEvent } from 'react';
import {
  Alert,
  Badge,
  Button,
  Checkbox,
  Code,
  Collapse,
  Group,
  List,
  Modal,
  PasswordInput,
  SimpleGrid,
  Stack,
  Switch,
  Table,
  Text,
  TextInput,
  Textarea,
  VisuallyHidden,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, fieldErrors, seg } from '../api/client';
import type { ListBody, WebhookEvent, WebhookRule } from '../api/types';
import { useOrgRole, useProject } from '../app/session';
import { ConfirmButton } from '../components/confirm';
import { CopyField } from '../components/copy-field';
import { formatTime } from '../components/format';
import { EmptyState, PageHeader, QueryView } from '../components/states';

/** Event types a rule may ask for: MK.IO's (its Management API enum), then Reel's asset events. */
const eventTypes = [
  'MediaKind.JobStarted',
  'MediaKind.JobFinished',
  'MediaKind.StreamingLocatorCreated',
  'MediaKind.ChannelInstanceStarted',
  'MediaKind.ChannelInstanceStopped',
  'MediaKind.ChannelInstanceError',
  'MediaKind.ScheduledOperationAccepted',
  'MediaKind.ScheduledOperationCompleted',
  'MediaKind.ScheduledOperationError',
  'MediaKind.ScheduledOperationOngoing',
  'Reel.AssetCreated',
  'Reel.AssetUpdated',
  'Reel.AssetDeleted',
];

const rulesPath = (project: string) => `/api/v1/projects/${seg(project)}/webhook/rules`;

/** `Name: value` lines (headers) or `name=value` lines (query parameters) ↔ a map. */
function parsePairs(text: string, sep: ':' | '='): { map: Record<string, string>; bad?: string } {
  const map: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const at = line.indexOf(sep);
    if (at <= 0) return { map, bad: line };
    map[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return { map };
}
const formatPairs = (map: Record<string, string>, sep: ':' | '=') =>
  Object.entries(map)
    .map(([k, v]) => (sep === ':' ? `${k}: ${v}` : `${k}=${v}`))
    .join('\n');

/** Webhook rules of a project (`/api/v1/projects/{p}/webhook/rules`): the URLs Reel calls when events happen. */
export function WebhooksPage() {
  const { project } = useProject();
  const { role, canWrite } = useOrgRole();
  const queryClient = useQueryClient();
  const rules = useQuery({
    queryKey: ['webhook-rules', project],
    queryFn: async () => (await api<{ value: WebhookRule[] }>('GET', rulesPath(project))).value,
  });
  const [editing, setEditing] = useState<WebhookRule | 'new' | null>(null);
  const [history, setHistory] = useState<string | null>(null);
  const [secret, setSecret] = useState<{ rule: string; value: string } | null>(null);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['webhook-rules', project] });

  return (
    <>
      <PageHeader
        title="Webhooks"
        description={
          <>
            Reel POSTs each event of project {project} to the rules that ask for it, signed with the rule's secret (header <Code>x-reel-signature-256</Code>).
          </>
        }
        actions={
          <Button onClick={() => setEditing('new')} disabled={!canWrite}>
            Create rule
          </Button>
        }
      />
      {!canWrite && (
        <Alert variant="light" color="gray" mb="md" title="Read-only for your role">
          You are a {role} of this organization; a Contributor or an Admin manages webhook rules.
        </Alert>
      )}
      <QueryView
        query={rules}
        loading="Loading webhook rules…"
        errorTitle="Could not load the webhook rules"
        isEmpty={(l) => l.length === 0}
        empty={
          <EmptyState
            title="No webhook rules"
            action={
              canWrite && (
                <Button variant="light" onClick={() => setEditing('new')}>
                  Create rule
                </Button>
              )
            }
          >
            A rule names a URL and the events it receives, such as a finished job.
          </EmptyState>
        }
      >
        {(list) => (
          <Table.ScrollContainer minWidth={760}>
            <Table verticalSpacing="sm" striped aria-label="Webhook rules">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>URL</Table.Th>
                  <Table.Th>Events</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.map((r) => (
                  <Table.Tr key={r.metadata.id} data-rule={r.metadata.name}>
                    <Table.Td>
                      <Text size="sm" fw={600}>
                        {r.metadata.name}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm" ff="monospace" style={{ wordBreak: 'break-all' }}>
                        {r.spec.url}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Stack gap={2}>
                        {r.spec.events.map((e) => (
                          <Text key={e} size="xs">
                            {e}
                          </Text>
                        ))}
                      </Stack>
                    </Table.Td>
                    <Table.Td style={{ whiteSpace: 'nowrap' }}>
                      <Badge color={r.spec.enabled ? 'green' : 'gray'} variant="light">
                        {r.spec.enabled ? 'Enabled' : 'Disabled'}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      <Group gap="xs" wrap="nowrap" justify="flex-end">
                        <Button size="xs" variant="light" onClick={() => setHistory(r.metadata.name)} aria-label={`Events of rule ${r.metadata.name}`}>
                          Events
                        </Button>
                        <Button size="xs" variant="default" disabled={!canWrite} onClick={() => setEditing(r)} aria-label={`Edit rule ${r.metadata.name}`}>
                          Edit
                        </Button>
                        <ConfirmButton
                          label="Delete"
                          ariaLabel={`Delete rule ${r.metadata.name}`}
                          title={`Delete webhook rule ${r.metadata.name}?`}
                          confirmLabel="Delete rule"
                          message="Reel stops calling its URL, and its event history goes with it."
                          disabled={!canWrite}
                          onConfirm={() => api('DELETE', `${rulesPath(project)}/${seg(r.metadata.name)}`)}
                          onDone={() => {
                            refresh();
                            notifications.show({ color: 'green', message: `Webhook rule ${r.metadata.name} deleted` });
                          }}
                        />
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryView>
      {editing && (
        <RuleModal
          key={editing === 'new' ? 'new' : editing.metadata.id}
          project={project}
          rule={editing === 'new' ? undefined : editing}
          onClose={() => setEditing(null)}
          onSaved={(saved) => {
            refresh();
            setEditing(null);
            if (saved.spec.signingSecret) setSecret({ rule: saved.metadata.name, value: saved.spec.signingSecret });
            else notifications.show({ color: 'green', message: `Webhook rule ${saved.metadata.name} saved` });
          }}
        />
      )}
      <Modal opened={secret !== null} onClose={() => setSecret(null)} title={`Rule ${secret?.rule ?? ''} created`} size="lg" closeOnClickOutside={false}>
        {secret && (
          <Stack>
            <Alert color="yellow" title="Copy the signing secret now">
              It is shown only this once. Your receiver checks each delivery's signature with it.
            </Alert>
            <CopyField label="Signing secret" value={secret.value} />
            <Group justify="flex-end">
              <Button onClick={() => setSecret(null)}>Done</Button>
            </Group>
          </Stack>
        )}
      </Modal>
      {history && <EventsModal project={project} rule={history} onClose={() => setHistory(null)} />}
    </>
  );
}

function RuleModal({ project, rule, onClose, onSaved }: { project: string; rule?: WebhookRule; onClose: () => void; onSaved: (r: WebhookRule) => void }) {
  const [name, setName] = useState(rule?.metadata.name ?? '');
  const [url, setUrl] = useState(rule?.spec.url ?? '');
  const [enabled, setEnabled] = useState(rule?.spec.enabled ?? true);
  const [events, setEvents] = useState<string[]>(rule?.spec.events ?? ['MediaKind.JobFinished']);
  const [headers, setHeaders] = useState(formatPairs(rule?.spec.headers ?? {}, ':'));
  const [queryParams, setQueryParams] = useState(formatPairs(rule?.spec.queryParams ?? {}, '='));
  const [showSecrets, setShowSecrets] = useState(false);
  const [authHeaders, setAuthHeaders] = useState('');
  const [clearAuth, setClearAuth] = useState(false);
  const [signingSecret, setSigningSecret] = useState('');
  const parsedHeaders = parsePairs(headers, ':');
  const parsedQuery = parsePairs(queryParams, '=');
  const parsedAuth = parsePairs(authHeaders, ':');
  const authGiven = Object.keys(parsedAuth.map).length > 0;

  const save = useMutation({
    mutationFn: () =>
      api<WebhookRule>('PUT', `${rulesPath(project)}/${seg(name.trim())}`, {
        spec: {
          url: url.trim(),
          enabled,
          events,
          headers: parsedHeaders.map,
          queryParams: parsedQuery.map,
          // Write-only: left out, the rule keeps what it has (a new rule gets no authentication, and a generated secret).
          ...(authGiven ? { authentication: { headers: parsedAuth.map } } : clearAuth ? { authentication: {} } : {}),
          ...(signingSecret ? { signingSecret } : {}),
        },
      }),
    onSuccess: onSaved,
  });
  const errors = save.isError
    ? fieldErrors(save.error, {
        name: { paths: ['params.name'] },
        url: { paths: ['body.spec.url', 'spec.url'], codes: ['InvalidUrl'] },
        events: { paths: ['body.spec.events', 'spec.events'] },
        headers: { paths: ['body.spec.headers', 'spec.headers'] },
        queryParams: { paths: ['body.spec.queryParams', 'spec.queryParams'] },
        signingSecret: { paths: ['body.spec.signingSecret', 'spec.signingSecret'] },
      })
    : { byField: {} as Record<string, string>, general: undefined };
  const local = {
    headers: parsedHeaders.bad ? `“${parsedHeaders.bad}” is not “Name: value”` : undefined,
    queryParams: parsedQuery.bad ? `“${parsedQuery.bad}” is not “name=value”` : undefined,
    auth: parsedAuth.bad ? `“${parsedAuth.bad}” is not “Name: value”` : undefined,
    events: events.length === 0 ? 'Choose at least one event' : undefined,
  };
  const ready = name.trim() && url.trim() && !Object.values(local).some(Boolean);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (ready) save.mutate();
  };

  return (
    <Modal opened onClose={onClose} title={rule ? `Edit webhook rule ${rule.metadata.name}` : 'Create webhook rule'} size="lg">
      <form onSubmit={submit} noValidate>
        <Stack>
          <TextInput
            label="Name"
            required
            disabled={Boolean(rule)}
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            error={errors.byField.name}
            data-autofocus
          />
          <TextInput
            label="URL"
            required
            description="An http or https address Reel can reach."
            placeholder="https://hooks.example.com/reel"
            value={url}
            onChange={(e) => setUrl(e.currentTarget.value)}
            error={errors.byField.url}
          />
          <Switch label="Enabled" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} />
          <Checkbox.Group label="Events" required value={events} onChange={setEvents} error={errors.byField.events ?? local.events}>
            <SimpleGrid cols={{ base: 1, sm: 2 }} spacing={4} mt={4}>
              {eventTypes.map((t) => (
                <Checkbox key={t} value={t} label={t} size="xs" />
              ))}
            </SimpleGrid>
          </Checkbox.Group>
          <Textarea
            label="Headers"
            description="One “Name: value” a line, sent with every delivery."
            autosize
            minRows={2}
            value={headers}
            onChange={(e) => setHeaders(e.currentTarget.value)}
            error={errors.byField.headers ?? local.headers}
          />
          <Textarea
            label="Query parameters"
            description="One “name=value” a line, added to the URL."
            autosize
            minRows={2}
            value={queryParams}
            onChange={(e) => setQueryParams(e.currentTarget.value)}
            error={errors.byField.queryParams ?? local.queryParams}
          />
          <Button variant="subtle" size="xs" onClick={() => setShowSecrets((v) => !v)} aria-expanded={showSecrets} style={{ alignSelf: 'flex-start' }}>
            {showSecrets ? 'Hide' : 'Show'} authentication and signing secret
          </Button>
          <Collapse in={showSecrets}>
            <Stack>
              <Textarea
                label="Authentication headers"
                description={
                  rule
                    ? 'Write-only: never shown again. Leave empty to keep what the rule has.'
                    : 'Write-only (e.g. “Authorization: Bearer …”): never shown again.'
                }
                autosize
                minRows={2}
                value={authHeaders}
                onChange={(e) => setAuthHeaders(e.currentTarget.value)}
                error={local.auth}
              />
              {rule && (
                <Checkbox
                  label="Remove the rule's authentication"
                  checked={clearAuth}
                  disabled={authGiven}
                  onChange={(e) => setClearAuth(e.currentTarget.checked)}
                />
              )}
              <PasswordInput
                label="Signing secret"
                description={rule ? 'Leave empty to keep the current secret.' : 'Leave empty and Reel generates one, shown once.'}
                value={signingSecret}
                onChange={(e) => setSigningSecret(e.currentTarget.value)}
                error={errors.byField.signingSecret}
              />
            </Stack>
          </Collapse>
          {errors.general && (
            <Alert color="red" role="alert" title="The rule was not saved">
              {errors.general}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending} disabled={!ready}>
              {rule ? 'Save rule' : 'Create rule'}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

const eventColor: Record<string, string> = { Sent: 'green', Failed: 'red', Pending: 'yellow', Retrying: 'yellow' };

function EventsModal({ project, rule, onClose }: { project: string; rule: string; onClose: () => void }) {
  const events = useQuery({
    queryKey: ['webhook-events', project, rule],
    queryFn: () => api<ListBody<WebhookEvent>>('GET', `${rulesPath(project)}/${seg(rule)}/events`),
    refetchInterval: 5000,
  });
  return (
    <Modal opened onClose={onClose} title={`Events of rule ${rule}`} size="xl">
      <QueryView
        query={events}
        loading="Loading events…"
        errorTitle="Could not load the events"
        isEmpty={(b) => b.value.length === 0}
        empty={<EmptyState title="No events yet">Deliveries to this rule appear here, with each attempt.</EmptyState>}
      >
        {(body) => (
          <Stack gap="xs">
            <Table.ScrollContainer minWidth={640}>
              <Table verticalSpacing="xs" striped aria-label="Webhook events">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Created</Table.Th>
                    <Table.Th>Type</Table.Th>
                    <Table.Th>Status</Table.Th>
                    <Table.Th>Attempts</Table.Th>
                    <Table.Th>History</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {body.value.map((ev) => (
                    <Table.Tr key={ev.id} data-event={ev.id}>
                      <Table.Td>
                        <Text size="sm">{formatTime(ev.created)}</Text>
                        <Text size="xs" c="dimmed" style={{ wordBreak: 'break-all' }}>
                          {ev.source}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{ev.type}</Text>
                      </Table.Td>
                      <Table.Td style={{ whiteSpace: 'nowrap' }}>
                        <Badge color={eventColor[ev.status] ?? 'gray'} variant="light">
                          {ev.status}
                        </Badge>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{ev.attempts}</Text>
                      </Table.Td>
                      <Table.Td>
                        <List size="xs" spacing={2}>
                          {ev.history.map((h, i) => (
                            <List.Item key={i}>
                              {formatTime(h.at)}: {h.statusCode !== undefined ? `HTTP ${h.statusCode}` : ''}
                              {h.error ? ` ${h.error}` : ''}
                            </List.Item>
                          ))}
                        </List>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
            {body.supplemental?.pagination && (
              <Text size="xs" c="dimmed">
                {body.value.length} of {body.supplemental.pagination.total} events, oldest first.
              </Text>
            )}
          </Stack>
        )}
      </QueryView>
    </Modal>
  );
}
