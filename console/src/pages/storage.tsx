import { useState, type FormEvent } from 'react';
import {
  Alert,
  Badge,
  Button,
  Checkbox,
  Group,
  Modal,
  PasswordInput,
  SegmentedControl,
  Stack,
  Table,
  Text,
  TextInput,
  Textarea,
  VisuallyHidden,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, fieldErrors, seg } from '../api/client';
import type { ListBody, StorageAccount, StorageType } from '../api/types';
import { useProject } from '../app/session';
import { ConfirmButton } from '../components/confirm';
import { formatTime } from '../components/format';
import { EmptyState, PageHeader, QueryView } from '../components/states';

export function useStorageAccounts(base: string) {
  return useQuery({ queryKey: ['storage', base], queryFn: async () => (await api<ListBody<StorageAccount>>('GET', `${base}/storage`)).value });
}

/** Where an account points: its directory, blob service URL or bucket. */
function locationOf(a: StorageAccount): string {
  if (a.spec.type === 'Local') return a.spec.path ?? '';
  if (a.spec.type === 'AWS.S3') return `${a.spec.bucketName ?? ''}${a.spec.endpoint ? ` at ${a.spec.endpoint}` : a.spec.region ? ` (${a.spec.region})` : ''}`;
  return a.spec.url ?? '';
}

const typeLabel: Record<StorageType, string> = { Local: 'Local', 'Microsoft.Storage': 'Azure Blob', 'AWS.S3': 'S3' };

/**
 * Connection status from what the API reports: Reel lists the real storage before it saves an account (so a
 * saved account was reachable then); what can lapse is the credential: a missing one, or a SAS past its expiry.
 */
export function connectionStatus(a: StorageAccount): { label: string; color: string; hint: string } {
  if (a.spec.type === 'Local') return { label: 'Connected', color: 'green', hint: 'A directory on the Reel server' };
  if (!a.status.activeCredentialId) return { label: 'No credential', color: 'red', hint: 'Add a credential before assets can use this account' };
  const expiry = a.spec.credential?.signedExpiry;
  if (expiry && Date.parse(expiry) < Date.now()) return { label: 'SAS expired', color: 'red', hint: `The SAS token expired ${formatTime(expiry)}` };
  if (expiry && Date.parse(expiry) < Date.now() + 7 * 86_400_000)
    return { label: 'Expires soon', color: 'yellow', hint: `The SAS token expires ${formatTime(expiry)}` };
  return { label: 'Connected', color: 'green', hint: expiry ? `Credential valid until ${formatTime(expiry)}` : 'Credential verified when it was added' };
}

export function StoragePage() {
  const { project, base } = useProject();
  const accounts = useStorageAccounts(base);
  const queryClient = useQueryClient();
  const [adding, setAdding] = useState(false);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['storage', base] });

  return (
    <>
      <PageHeader
        title="Storage accounts"
        description={`Where the media of project ${project} lives. Deleting an account record never deletes the storage itself.`}
        actions={<Button onClick={() => setAdding(true)}>Add storage account</Button>}
      />
      <QueryView
        query={accounts}
        loading="Loading storage accounts…"
        errorTitle="Could not load storage accounts"
        isEmpty={(list) => list.length === 0}
        empty={
          <EmptyState title="No storage account yet" action={<Button onClick={() => setAdding(true)}>Add storage account</Button>}>
            Add a Local directory on the server, an Azure Blob account (SAS URL) or an S3 bucket; assets then point at its containers.
          </EmptyState>
        }
      >
        {(list) => (
          <Table.ScrollContainer minWidth={640}>
            <Table striped highlightOnHover verticalSpacing="sm" aria-label="Storage accounts">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Type</Table.Th>
                  <Table.Th>Location</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Created</Table.Th>
                  <Table.Th>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.map((a) => {
                  const status = connectionStatus(a);
                  return (
                    <Table.Tr key={a.metadata.id}>
                      <Table.Td>
                        <Text fw={600} size="sm">
                          {a.metadata.name}
                        </Text>
                        {a.spec.description && (
                          <Text size="xs" c="dimmed">
                            {a.spec.description}
                          </Text>
                        )}
                      </Table.Td>
                      <Table.Td>{typeLabel[a.spec.type] ?? a.spec.type}</Table.Td>
                      <Table.Td>
                        <Text size="sm" style={{ wordBreak: 'break-all' }}>
                          {locationOf(a)}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Badge color={status.color} variant="light" title={status.hint}>
                          {status.label}
                        </Badge>
                        <Text size="xs" c="dimmed">
                          {status.hint}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{formatTime(a.metadata.created)}</Text>
                      </Table.Td>
                      <Table.Td>
                        <ConfirmButton
                          label="Delete"
                          ariaLabel={`Delete storage account ${a.metadata.name}`}
                          title={`Delete storage account ${a.metadata.name}?`}
                          message="Only Reel's record is removed; the files stay in the storage. Accounts still used by assets cannot be deleted."
                          confirmLabel="Delete account"
                          onConfirm={() => api('DELETE', `${base}/storage/${seg(a.metadata.name)}`)}
                          onDone={() => {
                            refresh();
                            notifications.show({ color: 'green', message: `Storage account ${a.metadata.name} deleted` });
                          }}
                        />
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryView>
      <AddStorageModal opened={adding} onClose={() => setAdding(false)} base={base} onCreated={refresh} />
    </>
  );
}

interface Draft {
  name: string;
  description: string;
  path: string;
  sasUrl: string;
  bucketName: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  endpoint: string;
  forcePathStyle: boolean;
}
const emptyDraft: Draft = {
  name: '',
  description: '',
  path: '',
  sasUrl: '',
  bucketName: '',
  region: '',
  accessKeyId: '',
  secretAccessKey: '',
  endpoint: '',
  forcePathStyle: true,
};

/** The v1 `PUT .../storage/{name}` body a script would send for each type (§6.2). */
export function storageBody(type: StorageType, d: Draft): { spec: Record<string, unknown> } {
  const description = d.description.trim() ? { description: d.description.trim() } : {};
  if (type === 'Local') return { spec: { type, path: d.path.trim(), ...description } };
  if (type === 'Microsoft.Storage') return { spec: { type, url: d.sasUrl.trim(), ...description } };
  return {
    spec: {
      type,
      bucketName: d.bucketName.trim(),
      ...(d.region.trim() ? { region: d.region.trim() } : {}),
      ...(d.endpoint.trim() ? { endpoint: d.endpoint.trim(), forcePathStyle: d.forcePathStyle } : {}),
      credential: { accessKeyId: d.accessKeyId.trim(), secretAccessKey: d.secretAccessKey },
      ...description,
    },
  };
}

const storageFields = {
  name: { paths: ['params.name'], codes: ['Conflict'] },
  path: { paths: ['spec.path'] },
  sasUrl: { paths: ['spec.url', 'spec.credential.sasToken'] },
  bucketName: { paths: ['spec.bucketName'] },
  accessKeyId: { paths: ['spec.credential.accessKeyId', 'spec.credential.accessKeyId and spec.credential.secretAccessKey'] },
  secretAccessKey: { paths: ['spec.credential.secretAccessKey'] },
  endpoint: { paths: ['spec.endpoint'] },
  description: { paths: ['spec.description'] },
};

function AddStorageModal({ opened, onClose, base, onCreated }: { opened: boolean; onClose: () => void; base: string; onCreated: () => void }) {
  const [type, setType] = useState<StorageType>('Local');
  const [d, setD] = useState<Draft>(emptyDraft);
  const [missing, setMissing] = useState<Record<string, string>>({});
  const set = (k: keyof Draft) => (e: { currentTarget: { value: string } }) => setD({ ...d, [k]: e.currentTarget.value });
  const create = useMutation({
    mutationFn: () => api<StorageAccount>('PUT', `${base}/storage/${seg(d.name.trim())}`, storageBody(type, d)),
    onSuccess: (a) => {
      notifications.show({ color: 'green', message: `Storage account ${a.metadata.name} added` });
      onCreated();
      close();
    },
  });
  const close = () => {
    setD(emptyDraft);
    setMissing({});
    create.reset();
    onClose();
  };
  const errors = create.isError ? fieldErrors(create.error, storageFields) : { byField: {} as Record<string, string>, general: undefined };
  const err = (k: string) => missing[k] ?? errors.byField[k];

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const need: Record<string, string> = {};
    if (!d.name.trim()) need.name = 'Enter a name';
    if (type === 'Local' && !d.path.trim()) need.path = 'Enter a directory on the server';
    if (type === 'Microsoft.Storage' && !d.sasUrl.trim()) need.sasUrl = 'Enter the SAS URL';
    if (type === 'AWS.S3') {
      if (!d.bucketName.trim()) need.bucketName = 'Enter the bucket name';
      if (!d.accessKeyId.trim()) need.accessKeyId = 'Enter the access key id';
      if (!d.secretAccessKey) need.secretAccessKey = 'Enter the secret access key';
    }
    setMissing(need);
    if (Object.keys(need).length === 0) create.mutate();
  };

  return (
    <Modal opened={opened} onClose={close} title="Add storage account" size="lg">
      <form onSubmit={submit} noValidate>
        <Stack>
          <SegmentedControl
            aria-label="Storage type"
            fullWidth
            value={type}
            onChange={(v) => {
              setType(v as StorageType);
              setMissing({});
              create.reset();
            }}
            data={[
              { value: 'Local', label: 'Local path' },
              { value: 'Microsoft.Storage', label: 'Azure (SAS URL)' },
              { value: 'AWS.S3', label: 'S3 bucket' },
            ]}
          />
          <TextInput
            label="Name"
            description="Assets refer to the account by this name (storageAccountName)."
            required
            value={d.name}
            onChange={set('name')}
            error={err('name')}
            data-autofocus
          />
          {type === 'Local' && (
            <TextInput
              label="Directory path"
              description="An absolute directory on the server, inside this project's own folder of a storage root (<root>/<project name>) or a directory granted to it. Each sub-directory is a container."
              required
              value={d.path}
              onChange={set('path')}
              error={err('path')}
              placeholder="/srv/media"
            />
          )}
          {type === 'Microsoft.Storage' && (
            <PasswordInput
              label="SAS URL"
              description="The blob service URL with its SAS token, e.g. https://account.blob.core.windows.net?sv=…&sig=…. The signature is stored sealed and never shown again."
              required
              value={d.sasUrl}
              onChange={set('sasUrl')}
              error={err('sasUrl')}
            />
          )}
          {type === 'AWS.S3' && (
            <>
              <TextInput label="Bucket name" required value={d.bucketName} onChange={set('bucketName')} error={err('bucketName')} />
              <Group grow align="flex-start">
                <TextInput label="Access key id" required value={d.accessKeyId} onChange={set('accessKeyId')} error={err('accessKeyId')} autoComplete="off" />
                <PasswordInput
                  label="Secret access key"
                  required
                  value={d.secretAccessKey}
                  onChange={set('secretAccessKey')}
                  error={err('secretAccessKey')}
                  autoComplete="off"
                />
              </Group>
              <Group grow align="flex-start">
                <TextInput label="Region" placeholder="us-east-1" value={d.region} onChange={set('region')} />
                <TextInput
                  label="Endpoint (S3-compatible only)"
                  placeholder="https://s3.example.com"
                  value={d.endpoint}
                  onChange={set('endpoint')}
                  error={err('endpoint')}
                />
              </Group>
              {d.endpoint.trim() && (
                <Checkbox label="Path-style addressing" checked={d.forcePathStyle} onChange={(e) => setD({ ...d, forcePathStyle: e.currentTarget.checked })} />
              )}
            </>
          )}
          <Textarea label="Description" autosize minRows={1} value={d.description} onChange={set('description')} error={err('description')} />
          {errors.general && (
            <Alert color="red" role="alert" title="The storage account was not added">
              {errors.general}
            </Alert>
          )}
          <Text size="xs" c="dimmed">
            Reel lists the storage before saving the account, so an unreachable account is reported here.
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending}>
              Add account
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
