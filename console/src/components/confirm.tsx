import { useState, type ReactNode } from 'react';
import { Alert, Button, Group, Modal, Stack, Text } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { errorText } from '../api/client';

/**
 * A button that asks before an action (destructive, or costly like starting a live event) and shows the API's answer if it refuses (e.g. 409 "still
 * used by assets") inside the dialog, next to the action.
 */
export function ConfirmButton({
  label,
  title,
  message,
  confirmLabel,
  onConfirm,
  onDone,
  size = 'xs',
  disabled,
  ariaLabel,
  color = 'red',
}: {
  label: string;
  title: string;
  message: ReactNode;
  confirmLabel: string;
  onConfirm: () => Promise<unknown>;
  onDone?: () => void;
  size?: 'xs' | 'sm';
  disabled?: boolean;
  ariaLabel?: string;
  /** Red for destructive actions; another colour for actions that only ask to be sure (start, stop). */
  color?: string;
}) {
  const [opened, setOpened] = useState(false);
  const mutation = useMutation({
    mutationFn: onConfirm,
    onSuccess: () => {
      setOpened(false);
      onDone?.();
    },
  });
  return (
    <>
      <Button
        size={size}
        variant="light"
        color={color}
        onClick={() => {
          mutation.reset();
          setOpened(true);
        }}
        disabled={disabled}
        aria-label={ariaLabel}
      >
        {label}
      </Button>
      <Modal opened={opened} onClose={() => setOpened(false)} title={title} centered>
        <Stack>
          <Text size="sm">{message}</Text>
          {mutation.isError && (
            <Alert color="red" role="alert" title="The server refused">
              {errorText(mutation.error)}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setOpened(false)}>
              Cancel
            </Button>
            <Button color={color} loading={mutation.isPending} onClick={() => mutation.mutate()}>
              {confirmLabel}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}
