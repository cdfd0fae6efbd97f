import { useEffect, useState, type FormEvent } from 'react';
import { Alert, Anchor, Badge, Button, Group, Modal, Progress, Select, Stack, Table, Text, TextInput, VisuallyHidden } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate } from 'react-router';
import { api, errorText, fieldErrors, seg } from '../api/client';
import type { Asset, Job, ListBody } from '../api/types';
import { useProject } from '../app/session';
import { formatTime } from '../components/format';
import { EmptyState, PageHeader, QueryView } from '../components/states';
import { useTransforms } from './transforms';

const finalStates = new Set(['Finished', 'Error', 'Canceled']);
const stateColor: Record<string, string> = {
  Finished: 'green',
  Error: 'red',
  Canceled: 'gray',
  Canceling: 'orange',
  Processing: 'blue',
  Queued: 'gray',
  Scheduled: 'cyan',
};
/** The transform a job belongs to, from its ARM id (`…/transforms/{t}/jobs/{j}`). */
export const transformOf = (job: Job) => decodeURIComponent(/\/transforms\/([^/]+)\/jobs\//.exec(job.id)?.[1] ?? '');

/** Jobs of the project, newest first, polled while any is unfinished (progress comes from GET, MKIO-API §10). */
export function JobsPage() {
  const { project, base } = useProject();
  const queryClient = useQueryClient();
  const [submitting, setSubmitting] = useState(false);
  const jobs = useQuery({
    queryKey: ['jobs', base],
    queryFn: async () => (await api<ListBody<Job>>('GET', `${base}/jobs?$orderby=properties/created desc&$top=100`)).value,
    refetchInterval: (q) => (q.state.data?.some((j) => !finalStates.has(j.properties.state)) ? 1500 : false),
  });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['jobs', base] });
  return (
    <>
      <PageHeader
        title="Jobs"
        description="Encoding runs. Progress updates while a job runs."
        actions={<Button onClick={() => setSubmitting(true)}>Submit job</Button>}
      />
      <QueryView
        query={jobs}
        loading="Loading jobs…"
        errorTitle="Could not load jobs"
        isEmpty={(l) => l.length === 0}
        empty={
          <EmptyState title="No jobs yet" action={<Button onClick={() => setSubmitting(true)}>Submit job</Button>}>
            Submit a job to encode an asset with one of your transforms.
          </EmptyState>
        }
      >
        {(list) => (
          <Table.ScrollContainer minWidth={760}>
            <Table verticalSpacing="sm" striped aria-label="Jobs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Job</Table.Th>
                  <Table.Th>Input → output</Table.Th>
                  <Table.Th w={220}>Progress</Table.Th>
                  <Table.Th>Created</Table.Th>
                  <Table.Th>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.map((j) => (
                  <JobRow key={j.id} job={j} base={base} project={project} onChanged={refresh} />
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryView>
      <SubmitJobModal opened={submitting} onClose={() => setSubmitting(false)} />
    </>
  );
}

function JobRow({ job, base, project, onChanged }: { job: Job; base: string; project: string; onChanged: () => void }) {
  const transform = transformOf(job);
  const output = job.properties.outputs[0];
  const state = job.properties.state;
  const progress = state === 'Finished' ? 100 : (output?.progress ?? 0);
  const cancel = useMutation({
    mutationFn: () => api('POST', `${base}/transforms/${seg(transform)}/jobs/${seg(job.name)}/cancelJob`),
    onSuccess: onChanged,
    onError: (e) => notifications.show({ color: 'red', title: `Job ${job.name}`, message: errorText(e) }),
  });
  const assetLink = (name?: string) =>
    name ? (
      <Anchor component={Link} size="sm" to={`/projects/${encodeURIComponent(project)}/assets/${encodeURIComponent(name)}`}>
        {name}
      </Anchor>
    ) : (
      <Text span size="sm">
        HTTP input
      </Text>
    );
  const error = output?.error;
  return (
    <Table.Tr data-job={job.name}>
      <Table.Td>
        <Text size="sm" fw={600}>
          {job.name}
        </Text>
        <Text size="xs" c="dimmed">
          {transform}
        </Text>
      </Table.Td>
      <Table.Td>
        {assetLink(job.properties.input.assetName)}{' '}
        <Text span c="dimmed">
          →
        </Text>{' '}
        {assetLink(output?.assetName)}
      </Table.Td>
      <Table.Td>
        <Stack gap={4}>
          <Group gap="xs" justify="space-between">
            <Badge color={stateColor[state] ?? 'gray'} variant="light">
              {state}
            </Badge>
            <Text size="xs" c="dimmed">
              {progress}%
            </Text>
          </Group>
          <Progress
            value={progress}
            aria-label={`Progress of job ${job.name}`}
            color={state === 'Error' ? 'red' : state === 'Finished' ? 'green' : 'blue'}
            striped={!finalStates.has(state)}
            animated={state === 'Processing'}
          />
          {error && (
            <Text size="xs" c="red" role="alert">
              {error.code ? `${error.code}: ` : ''}
              {error.message ?? error.details?.[0]?.message ?? 'The job failed'}
            </Text>
          )}
        </Stack>
      </Table.Td>
      <Table.Td>
        <Text size="sm">{formatTime(job.properties.created)}</Text>
      </Table.Td>
      <Table.Td>
        {!finalStates.has(state) && state !== 'Canceling' && (
          <Button size="xs" variant="light" color="red" loading={cancel.isPending} onClick={() => cancel.mutate()} aria-label={`Cancel job ${job.name}`}>
            Cancel
          </Button>
        )}
      </Table.Td>
    </Table.Tr>
  );
}

const jobFields = {
  name: { paths: ['params.name'], codes: ['Conflict'] },
  transform: { paths: ['params.transform'] },
  input: { paths: ['properties.input', 'properties.input.assetName'], codes: ['AssetNotFound'] },
  output: { paths: ['properties.outputs', 'properties.outputs.0.assetName'], codes: ['StorageAccountNotFound'] },
};

/** `PUT .../transforms/{t}/jobs/{j}` with an asset input and an asset output (created if missing). */
export function SubmitJobModal({ opened, onClose, inputAsset }: { opened: boolean; onClose: () => void; inputAsset?: string }) {
  const { project, base } = useProject();
  const transforms = useTransforms(base);
  const assets = useQuery({
    queryKey: ['asset-names', base],
    queryFn: async () => (await api<ListBody<Asset>>('GET', `${base}/assets?$top=1000&$orderby=name asc`)).value.map((a) => a.name),
    enabled: opened && !inputAsset,
  });
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [transform, setTransform] = useState<string | null>(null);
  const [input, setInput] = useState<string | null>(inputAsset ?? null);
  const [output, setOutput] = useState('');
  const [name, setName] = useState('');
  useEffect(() => {
    if (!opened) return;
    const stamp = Date.now().toString(36);
    setName(`job-${stamp}`);
    if (inputAsset) setInput(inputAsset);
  }, [opened, inputAsset]);
  useEffect(() => {
    if (!transform && transforms.data?.[0]) setTransform(transforms.data[0].name);
  }, [transforms.data, transform]);
  useEffect(() => {
    if (input && transform) setOutput(`${input}-${transform}`.slice(0, 250));
  }, [input, transform]);

  const submit = useMutation({
    mutationFn: () =>
      api('PUT', `${base}/transforms/${seg(transform as string)}/jobs/${seg(name.trim())}`, {
        properties: {
          input: { '@odata.type': '#Microsoft.Media.JobInputAsset', assetName: input },
          outputs: [{ '@odata.type': '#Microsoft.Media.JobOutputAsset', assetName: output.trim() }],
        },
      }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['jobs', base] });
      notifications.show({ color: 'green', message: `Job ${name.trim()} submitted` });
      close();
      navigate(`/projects/${encodeURIComponent(project)}/jobs`);
    },
  });
  const close = () => {
    submit.reset();
    onClose();
  };
  const errors = submit.isError ? fieldErrors(submit.error, jobFields) : { byField: {} as Record<string, string>, general: undefined };
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (transform && input && output.trim() && name.trim()) submit.mutate();
  };
  const noTransforms = transforms.isSuccess && transforms.data.length === 0;

  return (
    <Modal opened={opened} onClose={close} title={inputAsset ? `Encode ${inputAsset}` : 'Submit job'} size="lg">
      <form onSubmit={onSubmit} noValidate>
        <Stack>
          {noTransforms && (
            <Alert color="yellow" title="No transform">
              Create one on the{' '}
              <Anchor component={Link} to={`/projects/${encodeURIComponent(project)}/transforms`} onClick={close}>
                transforms
              </Anchor>{' '}
              page first.
            </Alert>
          )}
          <Select
            label="Transform"
            required
            value={transform}
            onChange={setTransform}
            allowDeselect={false}
            data={(transforms.data ?? []).map((t) => t.name)}
            placeholder={transforms.isPending ? 'Loading…' : 'Choose a transform'}
            error={errors.byField.transform ?? (transforms.isError ? errorText(transforms.error) : undefined)}
          />
          {inputAsset ? (
            <TextInput label="Input asset" value={inputAsset} readOnly />
          ) : (
            <Select
              label="Input asset"
              required
              searchable
              value={input}
              onChange={setInput}
              data={assets.data ?? []}
              placeholder={assets.isPending ? 'Loading…' : 'Choose an asset'}
              error={errors.byField.input ?? (assets.isError ? errorText(assets.error) : undefined)}
              nothingFoundMessage="No asset"
            />
          )}
          {inputAsset && errors.byField.input && (
            <Text size="xs" c="red" role="alert">
              {errors.byField.input}
            </Text>
          )}
          <TextInput
            label="Output asset"
            required
            description="Created in the project's first storage account when it does not exist."
            value={output}
            onChange={(e) => setOutput(e.currentTarget.value)}
            error={errors.byField.output}
          />
          <TextInput label="Job name" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={errors.byField.name} />
          {errors.general && (
            <Alert color="red" role="alert" title="The job was not submitted">
              {errors.general}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" loading={submit.isPending} disabled={!transform || !input || !output.trim() || !name.trim()}>
              Submit job
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
