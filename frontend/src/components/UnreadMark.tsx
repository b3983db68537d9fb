/** Replies not read yet: a numbered dot for the eye, words for screen readers (not colour alone). */
export function UnreadMark({ count }: { count: number }) {
  if (count === 0) return null;
  return (
    <span className="unread" data-unread={count}>
      <span className="unread-dot" aria-hidden="true">
        {count}
      </span>
      <span className="visually-hidden">{`${count} unread`}</span>
    </span>
  );
}
