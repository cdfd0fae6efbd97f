import { useState, type FormEvent } from 'react';
import { Alert, Anchor, Button, Group, Modal, Select, Stack, Text, TextInput, Textarea } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate } from 'react-router';
import { api, fieldErrors, seg } from '../api/client';
import type { Asset } from '../api/types';
import { useProject } from '../app/session';
import { useStorageAccounts } from './storage';

/** The support KB's migration body: exactly these three properties (MKIO-API §7.1). */
export function migrateBody(f: { container: string; description: string; storageAccountName: string }) {
  return { properties: { container: f.container, description: f.description, storageAccountName: f.storageAccountName } };
}

const assetFields = {
  name: { paths: ['params.name'] },
  storageAccountName: { paths: ['properties.storageAccountName'], codes: ['StorageAccountNotFound'] },
  container: { paths: ['properties.container'], codes: ['ContainerNotFound', 'ContainerInUse', 'InvalidContainerName'] },
  description: { paths: ['properties.description'] },
};

/** Migrate: an asset record over a container that already holds media (`PUT .../assets/{name}`). */
export function MigrateAssetModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const { project, base } = useProject();
  const accounts = useStorageAccounts(base);
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const [storageAccountName, setStorage] = useState<string | null>(null);
  const [container, setContainer] = useState('');
  const [description, setDescription] = useState('');
  const [missing, setMissing] = useState<Record<string, string>>({});

  const migrate = useMutation({
    mutationFn: () =>
      api<Asset>(
        'PUT',
        `${base}/assets/${seg(name.trim())}`,
        migrateBody({ container: container.trim(), description, storageAccountName: storageAccountName ?? '' }),
      ),
    onSuccess: (asset) => {
      void queryClient.invalidateQueries({ queryKey: ['assets', base] });
      notifications.show({ color: 'green', message: `Asset ${asset.name} migrated` });
      close();
      navigate(`/projects/${encodeURIComponent(project)}/assets/${encodeURIComponent(asset.name)}`);
    },
  });
  const close = () => {
    setName('');
    setContainer('');
    setDescription('');
    setMissing({});
    migrate.reset();
    onClose();
  };
  const errors = migrate.isError ? fieldErrors(migrate.error, assetFields) : { byField: {} as Record<string, string>, general: undefined };
  const err = (k: string) => missing[k] ?? errors.byField[k];

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const need: Record<string, string> = {};
    if (!name.trim()) need.name = 'Enter the asset name';
    if (!storageAccountName) need.storageAccountName = 'Choose the storage account';
    if (!container.trim()) need.container = 'Enter the container that holds the media';
    setMissing(need);
    if (Object.keys(need).length === 0) migrate.mutate();
  };

  const noAccounts = accounts.isSuccess && accounts.data.length === 0;
  return (
    <Modal opened={opened} onClose={close} title="Migrate asset" size="lg">
      <form onSubmit={submit} noValidate>
        <Stack>
          <Text size="sm" c="dimmed">
            Creates an asset over an existing container, as the MK.IO migration guide does. Nothing is copied.
          </Text>
          <TextInput label="Asset name" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={err('name')} data-autofocus />
          <Select
            label="Storage account"
            required
            placeholder={accounts.isPending ? 'Loading…' : 'Choose an account'}
            data={(accounts.data ?? []).map((a) => a.metadata.name)}
            value={storageAccountName}
            onChange={setStorage}
            error={err('storageAccountName') ?? (accounts.isError ? 'Could not load storage accounts' : undefined)}
            disabled={accounts.isPending}
            allowDeselect={false}
            searchable
          />
          {noAccounts && (
            <Alert color="yellow" title="No storage account">
              Add one first on the{' '}
              <Anchor component={Link} to={`/projects/${encodeURIComponent(project)}/storage`} onClick={close}>
                storage accounts
              </Anchor>{' '}
              page.
            </Alert>
          )}
          <TextInput
            label="Container"
            description="The container (Azure), prefix (S3) or sub-directory (Local) holding the media: 3–63 lower-case letters, digits and hyphens."
            required
            value={container}
            onChange={(e) => setContainer(e.currentTarget.value)}
            error={err('container')}
          />
          <Textarea
            label="Description"
            autosize
            minRows={2}
            value={description}
            onChange={(e) => setDescription(e.currentTarget.value)}
            error={err('description')}
          />
          {errors.general && (
            <Alert color="red" role="alert" title="The asset was not migrated">
              {errors.general}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" loading={migrate.isPending}>
              Migrate
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
