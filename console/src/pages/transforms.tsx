import { useState, type FormEvent } from 'react';
import { Alert, Button, Group, Modal, Select, Stack, Table, Text, TextInput, Textarea, VisuallyHidden } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, fieldErrors, seg } from '../api/client';
import type { ListBody, Transform } from '../api/types';
import { useProject } from '../app/session';
import { ConfirmButton } from '../components/confirm';
import { formatTime } from '../components/format';
import { EmptyState, PageHeader, QueryView } from '../components/states';

const encoder = '#Microsoft.Media.BuiltInStandardEncoderPreset';
const converter = '#Microsoft.Media.BuiltInAssetConverterPreset';

/** The built-in presets Reel's encoder runs (MKIO-API §9.1), grouped as a picker shows them. */
export const presets = [
  {
    group: 'Adaptive ladders (H.264)',
    items: ['AdaptiveStreaming', 'ContentAwareEncoding', 'H264MultipleBitrateSD', 'H264MultipleBitrate720p', 'H264MultipleBitrate1080p'].map((n) => ({
      type: encoder,
      name: n,
    })),
  },
  {
    group: 'Single bitrate',
    items: ['H264SingleBitrateSD', 'H264SingleBitrate720p', 'H264SingleBitrate1080p', 'H265SingleBitrate720p', 'H265SingleBitrate1080p'].map((n) => ({
      type: encoder,
      name: n,
    })),
  },
  { group: 'H.265 ladders', items: ['H265AdaptiveStreaming', 'H265ContentAwareEncoding'].map((n) => ({ type: encoder, name: n })) },
  { group: 'Audio', items: [{ type: encoder, name: 'AACGoodQualityAudio' }] },
  {
    group: 'Repackage without re-encoding',
    items: ['CopyTopBitrateInterleaved', 'CopyAllBitrateNonInterleaved', 'CopyAllBitrateInterleaved'].map((n) => ({ type: converter, name: n })),
  },
];
const presetKey = (p: { type: string; name: string }) => `${p.type}|${p.name}`;

export function useTransforms(base: string) {
  return useQuery({
    queryKey: ['transforms', base],
    queryFn: async () => (await api<ListBody<Transform>>('GET', `${base}/transforms?$orderby=name asc`)).value,
  });
}

export function TransformsPage() {
  const { base } = useProject();
  const transforms = useTransforms(base);
  const queryClient = useQueryClient();
  const [creating, setCreating] = useState(false);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['transforms', base] });
  return (
    <>
      <PageHeader
        title="Transforms"
        description="Encoding recipes. A job runs a transform on an input asset and writes an output asset."
        actions={<Button onClick={() => setCreating(true)}>Create transform</Button>}
      />
      <QueryView
        query={transforms}
        loading="Loading transforms…"
        errorTitle="Could not load transforms"
        isEmpty={(l) => l.length === 0}
        empty={
          <EmptyState title="No transforms yet" action={<Button onClick={() => setCreating(true)}>Create transform</Button>}>
            Create one from a built-in preset, then submit jobs from an asset's page.
          </EmptyState>
        }
      >
        {(list) => (
          <Table.ScrollContainer minWidth={560}>
            <Table verticalSpacing="xs" striped aria-label="Transforms">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Preset</Table.Th>
                  <Table.Th>Created</Table.Th>
                  <Table.Th>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.map((t) => (
                  <Table.Tr key={t.name}>
                    <Table.Td>
                      <Text size="sm" fw={600}>
                        {t.name}
                      </Text>
                      {t.properties.description && (
                        <Text size="xs" c="dimmed">
                          {t.properties.description}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      {t.properties.outputs.map((o, i) => (
                        <Text key={i} size="sm">
                          {o.preset.presetName ?? o.preset['@odata.type'].replace(/^#/, '')}
                        </Text>
                      ))}
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{formatTime(t.properties.created)}</Text>
                    </Table.Td>
                    <Table.Td>
                      <ConfirmButton
                        label="Delete"
                        ariaLabel={`Delete transform ${t.name}`}
                        title={`Delete transform ${t.name}?`}
                        confirmLabel="Delete transform"
                        message="Its jobs are deleted with it; unfinished ones are canceled first."
                        onConfirm={() => api('DELETE', `${base}/transforms/${seg(t.name)}`)}
                        onDone={refresh}
                      />
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryView>
      <CreateTransformModal opened={creating} onClose={() => setCreating(false)} base={base} onCreated={refresh} />
    </>
  );
}

function CreateTransformModal({ opened, onClose, base, onCreated }: { opened: boolean; onClose: () => void; base: string; onCreated: () => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [preset, setPreset] = useState<string | null>(presetKey(presets[0].items[0]));
  const create = useMutation({
    mutationFn: () => {
      const [type, presetName] = (preset as string).split('|');
      return api('PUT', `${base}/transforms/${seg(name.trim())}`, {
        properties: { ...(description.trim() ? { description: description.trim() } : {}), outputs: [{ preset: { '@odata.type': type, presetName } }] },
      });
    },
    onSuccess: () => {
      notifications.show({ color: 'green', message: `Transform ${name.trim()} created` });
      onCreated();
      close();
    },
  });
  const close = () => {
    setName('');
    setDescription('');
    create.reset();
    onClose();
  };
  const errors = create.isError
    ? fieldErrors(create.error, {
        name: { paths: ['params.name'] },
        preset: { paths: ['properties.outputs', 'body.properties.outputs'], codes: ['UnsupportedPreset'] },
        description: { paths: ['properties.description'] },
      })
    : { byField: {} as Record<string, string>, general: undefined };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim() && preset) create.mutate();
  };
  return (
    <Modal opened={opened} onClose={close} title="Create transform" size="lg">
      <form onSubmit={submit} noValidate>
        <Stack>
          <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={errors.byField.name} data-autofocus />
          <Select
            label="Preset"
            required
            value={preset}
            onChange={setPreset}
            allowDeselect={false}
            searchable
            error={errors.byField.preset}
            data={presets.map((g) => ({ group: g.group, items: g.items.map((p) => ({ value: presetKey(p), label: p.name })) }))}
          />
          <Textarea
            label="Description"
            autosize
            minRows={1}
            value={description}
            onChange={(e) => setDescription(e.currentTarget.value)}
            error={errors.byField.description}
          />
          {errors.general && (
            <Alert color="red" role="alert" title="The transform was not created">
              {errors.general}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending} disabled={!name.trim() || !preset}>
              Create transform
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
