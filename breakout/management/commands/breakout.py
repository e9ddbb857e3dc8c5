"""``manage.py breakout``: inspect and drive the breakout rooms of one conversation."""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from accounts.models import User
from breakout.overview.texts import service_error_text
from breakout.services.lifecycle import (
    breakout_configure,
    breakout_remove,
    breakout_reorganize,
    breakout_start,
    breakout_stop,
)
from conversations.models import Attendee, Conversation
from conversations.services.primitives import service_actor
from project.errors import ServiceError
from project.progress import Steps
from project.progress import rows as progress_rows

ACTIONS = (
    "list",
    "status",
    "configure",
    "start",
    "stop",
    "remove",
    "assign",
    "export",
    "template-export",
    "template-import",
)
MODES = {
    "automatic": Conversation.BreakoutMode.AUTOMATIC,
    "manual": Conversation.BreakoutMode.MANUAL,
    "free": Conversation.BreakoutMode.FREE,
}

TEMPLATE_CSV_HEADER = ("user_id", "room_name")
CSV_HEADER = ("user_id", "room")
INTEGER = re.compile(r"-?[0-9]+")


@dataclass(frozen=True)
class CsvAssignment:
    line: int
    user_id: str
    room_number: int  # 1-based, as in the file


class Command(BaseCommand):
    help = (
        "list [--started] [--assistance]: every conversation with breakout rooms (token, name, mode, status, "
        "rooms, students, open assistance requests). "
        "Inspect and drive the breakout rooms of the conversation TOKEN (a parent, not a breakout room). "
        "status: rooms, attendees per room and assistance requests. "
        "configure --mode automatic|manual|free --amount N [--names NAME ...]: create the breakout rooms. "
        "start / stop / remove / configure / assign: as the API does; with --actor UID (a moderator of the "
        "conversation) in that user's name, else as the service itself (the system messages name it). "
        "assign --csv FILE: move students; FILE has the columns user id, room number (1-based, rooms by "
        "ascending id as 'status' numbers them) and an optional header line; a file with any bad line changes "
        "nothing. export [--format csv|json]: the current assignment of students to rooms (the CSV reads back "
        "with assign); export --history: every round of the parent, one line per stay of a student in a room (CSV). "
        "template-export --name NAME / template-import --name NAME --csv FILE: the assignment template NAME of "
        "--actor (default: the owner) as CSV with the columns user id, room name. "
        "Exit code 0 on success, 1 on any error (2 for bad usage)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=ACTIONS, help="What to do.")
        parser.add_argument(
            "token", metavar="TOKEN", nargs="?", help="Token of the parent conversation (every action but list)."
        )
        parser.add_argument(
            "--actor",
            metavar="UID",
            help="A moderator of the conversation acting for configure/start/stop/remove/assign (default: the "
            "service itself); for the template actions the template's owner (default: the conversation's owner).",
        )
        parser.add_argument("--started", action="store_true", help="list: only conversations whose rooms are started.")
        parser.add_argument(
            "--assistance", action="store_true", help="list: only conversations with open assistance requests."
        )
        parser.add_argument("--mode", choices=tuple(MODES), help="configure: how students are placed.")
        parser.add_argument("--amount", type=int, metavar="N", help="configure: the number of breakout rooms.")
        parser.add_argument(
            "--names",
            nargs="+",
            metavar="NAME",
            help="configure: the rooms' names instead of Room 1..Room N, exactly --amount of them, all different.",
        )
        parser.add_argument(
            "--progress",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="assign/export: progress on standard error (default: only when it is a terminal).",
        )
        parser.add_argument("--csv", metavar="FILE", dest="csv_file", help="assign: the CSV file to read.")
        parser.add_argument(
            "--format",
            choices=("csv", "json"),
            default=None,
            dest="export_format",
            help="export: csv (default) or json.",
        )
        parser.add_argument("--history", action="store_true", help="export: the history of rounds (CSV).")
        parser.add_argument("--name", metavar="NAME", help="template-export / template-import: the template's name.")

    def handle(
        self,
        *args: Any,
        action: str,
        token: str | None,
        actor: str | None,
        csv_file: str | None,
        export_format: str | None,
        history: bool = False,
        name: str | None = None,
        started: bool = False,
        assistance: bool = False,
        mode: str | None = None,
        amount: int | None = None,
        names: list[str] | None = None,
        progress: bool | None = None,
        **options: Any,
    ) -> None:
        self.progress = progress
        if (started or assistance) and action != "list":
            raise CommandError("--started and --assistance are only used by 'list'")
        if (mode is not None or amount is not None or names is not None) and action != "configure":
            raise CommandError("--mode, --amount and --names are only used by 'configure'")
        if action == "list":
            if token is not None:
                raise CommandError("list takes no TOKEN")
            self._list(started=started, assistance=assistance)
            return
        if token is None:
            raise CommandError(f"{action} needs the TOKEN of a conversation")
        if action == "configure":
            if mode is None or amount is None:
                raise CommandError("configure needs --mode and --amount")
            parent = self._parent(token)
            self._configure(parent, self._actor(parent, actor), MODES[mode], amount, names)
            return
        if action.startswith("template-"):
            self._template(action, self._parent(token), actor, name, csv_file)
            return
        if history:
            if action != "export":
                raise CommandError("--history is only used by 'export'")
            self._export_history(self._parent(token))
            return
        if csv_file is not None and action != "assign":
            raise CommandError("--csv is only used by 'assign'")
        if action == "assign" and csv_file is None:
            raise CommandError("assign needs --csv FILE")
        if export_format is not None and action != "export":
            raise CommandError("--format is only used by 'export'")
        parent = self._parent(token)
        if action == "status":
            self._status(parent)
        elif action == "export":
            self._export(parent, export_format or "csv")
        elif action == "assign":
            self._assign(parent, csv_file or "", self._actor(parent, actor))
        else:
            self._lifecycle(action, parent, self._actor(parent, actor))

    # --- lookups --------------------------------------------------------------------------------

    def _parent(self, token: str) -> Conversation:
        conversation = Conversation.objects.select_related("parent").filter(token=token).first()
        if conversation is None:
            raise CommandError(f"no conversation with token {token!r}")
        if conversation.parent is not None:
            raise CommandError(f"{token} is a breakout room of {conversation.parent.token}; give the parent's token")
        return conversation

    def _actor(self, parent: Conversation, user_id: str | None) -> User:
        """The user named by --actor, who must be a moderator of ``parent`` (the API refuses the
        others); without --actor the service itself (``service_actor``)."""
        if user_id is None:
            return service_actor()
        user = User.objects.filter(username=user_id).first()
        if user is None:
            raise CommandError(f"--actor: no user {user_id!r}")
        if not Attendee.objects.filter(
            room=parent, actor_type=Attendee.ACTOR_USERS, user=user, participant_type__in=Attendee.MODERATOR_TYPES
        ).exists():
            raise CommandError(
                f"--actor: {user_id!r} is not a moderator of {parent.token}; name a moderator, or leave --actor "
                "out to act as the service itself"
            )
        return user

    @staticmethod
    def _as(actor: User) -> str:
        return "the service itself" if actor.pk is None else actor.username

    def _template_owner(self, parent: Conversation, user_id: str | None) -> User:
        if user_id is not None:
            user = User.objects.filter(username=user_id).first()
            if user is None:
                raise CommandError(f"--actor: no user {user_id!r}")
            return user
        owner = (
            Attendee.objects.select_related("user")
            .filter(room=parent, actor_type=Attendee.ACTOR_USERS, participant_type=Attendee.ParticipantType.OWNER)
            .order_by("id")
            .first()
        )
        if owner is None or owner.user is None:
            raise CommandError(f"{parent.token} has no owner to act as; pass --actor UID")
        return owner.user

    def _rooms(self, parent: Conversation) -> list[Conversation]:
        return list(Conversation.objects.filter(parent=parent).order_by("id"))

    def _run(self, service: Callable[..., Any], **kwargs: Any) -> Any:
        try:
            return service(**kwargs)
        except ServiceError as error:
            raise CommandError(f"refused: {service_error_text(error)} ({error.key or 'error'})") from error

    # --- actions --------------------------------------------------------------------------------

    def _lifecycle(self, action: str, parent: Conversation, actor: User) -> None:
        service = {"start": breakout_start, "stop": breakout_stop, "remove": breakout_remove}[action]
        # The state just before the call, for an honest message. The services are idempotent: a
        # concurrent writer in between (say, a teacher's start) can only make the message say
        # "Started" where the rooms were opened a moment earlier by someone else, or vice versa.
        before = Conversation.objects.filter(pk=parent.pk).values_list(
            "breakout_room_mode", "breakout_room_status"
        ).first() or (parent.breakout_room_mode, parent.breakout_room_status)
        had_rooms = action == "remove" and Conversation.objects.filter(parent=parent).exists()
        self._run(service, actor=actor, parent=parent, as_operator=True)
        mode_before, status_before = before
        started = Conversation.BreakoutStatus.STARTED
        if action == "start":
            done = "was already started" if status_before == started else "Started"
        elif action == "stop":
            done = "was already stopped" if status_before != started else "Stopped"
        else:
            unconfigured = mode_before == Conversation.BreakoutMode.NOT_CONFIGURED and not had_rooms
            done = "had no breakout rooms" if unconfigured else "Removed the breakout rooms of"
        if done[0].islower():
            self.stdout.write(f"{parent.token} {done}; nothing changed.")
        else:
            self.stdout.write(f"{done} {parent.token} (as {self._as(actor)}).")

    def _configure(self, parent: Conversation, actor: User, mode: int, amount: int, names: list[str] | None) -> None:
        configured = self._run(
            breakout_configure,
            actor=actor,
            parent=parent,
            mode=mode,
            amount=amount,
            attendee_map={},
            as_operator=True,
            names=names,
        )
        rooms = self._rooms(configured)
        self.stdout.write(
            f"Configured {len(rooms)} breakout room(s) in {parent.token}, mode "
            f"{Conversation.BreakoutMode(mode).label} (as {self._as(actor)}): "
            + ", ".join(f"{room.name} ({room.token})" for room in rooms)
        )

    def _list(self, *, started: bool, assistance: bool) -> None:
        """One query whatever the number of conversations: counts come from correlated subqueries."""
        rooms = Conversation.objects.filter(parent=OuterRef("pk")).order_by().values("parent")
        students = (
            Attendee.objects.filter(room=OuterRef("pk"), participant_type__in=Attendee.STUDENT_TYPES)
            .order_by()
            .values("room")
        )
        asking = Q(breakout_room_status=Conversation.BreakoutStatus.ASSISTANCE_REQUESTED)
        zero = 0

        def counted(queryset: Any) -> Coalesce:
            return Coalesce(
                Subquery(queryset.annotate(n=Count("pk")).values("n")[:1], output_field=IntegerField()), zero
            )

        parents = (
            Conversation.objects.filter(parent__isnull=True)
            .exclude(breakout_room_mode=Conversation.BreakoutMode.NOT_CONFIGURED)
            .annotate(
                room_count=counted(rooms),
                student_count=counted(students),
                assistance_count=counted(rooms.filter(asking)),
            )
            .order_by("id")
        )
        if started:
            parents = parents.filter(breakout_room_status=Conversation.BreakoutStatus.STARTED)
        if assistance:
            parents = parents.filter(assistance_count__gt=0)
        rows = [
            (
                parent.token,
                parent.name or "-",
                parent.get_breakout_room_mode_display(),
                "started" if parent.breakout_room_status == Conversation.BreakoutStatus.STARTED else "stopped",
                str(parent.room_count),
                str(parent.student_count),
                str(parent.assistance_count),
            )
            for parent in parents
        ]
        if not rows:
            self.stdout.write("No conversation with breakout rooms matches.")
            return
        header = ("TOKEN", "NAME", "MODE", "STATUS", "ROOMS", "STUDENTS", "ASSISTANCE")
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())

    def _status(self, parent: Conversation) -> None:
        rooms = self._rooms(parent)
        attendees = list(
            Attendee.objects.filter(room__in=[parent, *rooms])
            .order_by("id")
            .values_list("room_id", "actor_id", "participant_type")
        )
        by_room: dict[int, list[tuple[str, int]]] = {room.pk: [] for room in [parent, *rooms]}
        for room_id, actor_id, participant_type in attendees:
            by_room[room_id].append((actor_id, participant_type))
        status = "started" if parent.breakout_room_status == Conversation.BreakoutStatus.STARTED else "stopped"
        self.stdout.write(
            f"{parent.name or parent.token} ({parent.token}): mode {parent.get_breakout_room_mode_display()}, "
            f"{status}, {len(rooms)} breakout room(s), {len(by_room[parent.pk])} attendee(s) in the conversation"
        )
        assigned: set[str] = set()
        asking = []
        for number, room in enumerate(rooms, start=1):
            members = by_room[room.pk]
            students = [actor_id for actor_id, kind in members if kind in Attendee.STUDENT_TYPES]
            moderators = [actor_id for actor_id, kind in members if kind not in Attendee.STUDENT_TYPES]
            assigned.update(students)
            flag = ""
            if room.breakout_room_status == Conversation.BreakoutStatus.ASSISTANCE_REQUESTED:
                flag = "  ASSISTANCE REQUESTED"
                asking.append(f"Room {number} ({room.token})")
            lobby = "closed" if room.lobby_state else "open"
            self.stdout.write(
                f"  Room {number}: {room.name} ({room.token}), lobby {lobby}, {len(members)} attendee(s){flag}"
            )
            self.stdout.write(f"    students: {', '.join(students) or '-'}")
            self.stdout.write(f"    moderators: {', '.join(moderators) or '-'}")
        unassigned = [
            actor_id
            for actor_id, kind in by_room[parent.pk]
            if kind in Attendee.STUDENT_TYPES and actor_id not in assigned
        ]
        self.stdout.write(f"Students in no breakout room: {', '.join(unassigned) or '-'}")
        self.stdout.write(f"Assistance requests: {len(asking)}{': ' if asking else ''}{', '.join(asking)}")

    def _assignment(self, parent: Conversation) -> tuple[list[Conversation], list[tuple[str, int]]]:
        """Rooms by ascending id and (user id, 1-based room number) of every student in one."""
        rooms = self._rooms(parent)
        number_of = {room.pk: number for number, room in enumerate(rooms, start=1)}
        students = Attendee.objects.filter(
            room__in=rooms, actor_type=Attendee.ACTOR_USERS, participant_type__in=Attendee.STUDENT_TYPES
        ).order_by("room_id", "id")
        return rooms, [
            (actor_id, number_of[room_id]) for room_id, actor_id in students.values_list("room_id", "actor_id")
        ]

    def _export(self, parent: Conversation, export_format: str) -> None:
        if parent.breakout_room_mode == Conversation.BreakoutMode.NOT_CONFIGURED:
            raise CommandError(f"{parent.token}: breakout rooms are not configured")
        rooms, assignment = self._assignment(parent)
        if export_format == "json":
            document = {
                "token": parent.token,
                "mode": parent.breakout_room_mode,
                "status": parent.breakout_room_status,
                "rooms": [
                    {"room": number, "token": room.token, "name": room.name}
                    for number, room in enumerate(rooms, start=1)
                ],
                "assignments": [{"user_id": user_id, "room": number} for user_id, number in assignment],
            }
            self.stdout.write(json.dumps(document, indent=2))
            return
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        for row in progress_rows(self, assignment, total=len(assignment), desc="export", enabled=self.progress):
            writer.writerow(row)
        self.stdout.write(buffer.getvalue(), ending="")

    def _export_history(self, parent: Conversation) -> None:
        from breakout.history import HISTORY_CSV_HEADER, history_csv_rows, history_rounds

        _, rounds = history_rounds(parent=parent, filters={}, limit=10**9, offset=0)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(HISTORY_CSV_HEADER)
        writer.writerows(history_csv_rows(list(reversed(rounds))))
        self.stdout.write(buffer.getvalue(), ending="")

    def _template(
        self, action: str, parent: Conversation, actor: str | None, name: str | None, csv_file: str | None
    ) -> None:
        from breakout.models import AssignmentTemplate
        from breakout.services.templates import template_store

        if not name:
            raise CommandError(f"{action} needs --name NAME")
        owner = self._template_owner(parent, actor)
        if action == "template-export":
            template = AssignmentTemplate.objects.filter(owner=owner, name=name).first()
            if template is None:
                raise CommandError(f"{owner.username} has no template {name!r}")
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(TEMPLATE_CSV_HEADER)
            writer.writerows((row["userId"], row["room"]) for row in template.rows)
            self.stdout.write(buffer.getvalue(), ending="")
            return
        if csv_file is None:
            raise CommandError("template-import needs --csv FILE")
        lines = self._csv_lines(csv_file)
        if lines and tuple(cell.strip() for cell in lines[0]) == TEMPLATE_CSV_HEADER:
            lines = lines[1:]
        rows = []
        for number, line in enumerate(lines, start=1):
            if not line:
                continue
            if len(line) != 2:
                raise CommandError(f"line {number}: expected user id, room name")
            rows.append({"userId": line[0].strip(), "room": line[1].strip()})
        template = self._run(template_store, owner=owner, name=name, rows=rows)
        self.stdout.write(f"Imported template {template.name!r} of {owner.username} ({len(rows)} rows).")

    def _assign(self, parent: Conversation, path: str, actor: User) -> None:
        if parent.breakout_room_mode == Conversation.BreakoutMode.NOT_CONFIGURED:
            raise CommandError(f"{parent.token}: breakout rooms are not configured")
        steps = Steps(self, total=3, enabled=self.progress)
        steps.step(f"reading {path}")
        rooms = self._rooms(parent)
        rows, errors = self._read_csv(path, room_count=len(rooms))
        steps.step("checking the students")
        attendee_map: dict[int, int] = {}
        # The breakout-room rows of the file's students before the move.
        rows_before = set(
            Attendee.objects.filter(
                room__parent=parent, actor_type=Attendee.ACTOR_USERS, actor_id__in=[row.user_id for row in rows]
            ).values_list("pk", flat=True)
        )
        if rows:
            user_ids = [row.user_id for row in rows]
            known = set(User.objects.filter(username__in=user_ids).values_list("username", flat=True))
            members = {
                attendee.actor_id: attendee
                for attendee in Attendee.objects.filter(
                    room=parent, actor_type=Attendee.ACTOR_USERS, actor_id__in=user_ids
                )
            }
            for row in rows:
                member = members.get(row.user_id)
                if row.user_id not in known:
                    errors.append((row.line, f"line {row.line}: unknown user {row.user_id!r}"))
                elif member is None:
                    errors.append(
                        (row.line, f"line {row.line}: user {row.user_id!r} is not in the conversation {parent.token}")
                    )
                elif member.participant_type not in Attendee.STUDENT_TYPES:
                    errors.append(
                        (
                            row.line,
                            f"line {row.line}: user {row.user_id!r} is a moderator of the conversation "
                            "(moderators are in every room)",
                        )
                    )
                else:
                    attendee_map[member.pk] = row.room_number - 1
        if errors:
            steps.close(done=False)
            raise CommandError("nothing was changed:\n" + "\n".join(message for _, message in sorted(errors)))
        if not rows:
            steps.close(done=False)
            raise CommandError(f"{path}: no assignment lines; nothing was changed")
        steps.step("moving the students")
        target_of = {row.user_id: rooms[row.room_number - 1].pk for row in rows}
        self._run(breakout_reorganize, actor=actor, parent=parent, attendee_map=attendee_map, as_operator=True)
        # What the service did, read back: students now in their file's room whose row there is
        # new (the service keeps the row of a student who was already in place).
        now_in = dict(
            Attendee.objects.filter(
                room__parent=parent, actor_type=Attendee.ACTOR_USERS, actor_id__in=list(target_of)
            ).values_list("actor_id", "pk")
        )
        moved = sum(1 for user_id, pk in now_in.items() if pk not in rows_before)
        steps.close()
        self.stdout.write(
            f"Assigned {len(rows)} student(s) in {parent.token} (as {self._as(actor)}): {moved} moved, "
            f"{len(rows) - moved} already in their room."
        )

    @staticmethod
    def _csv_lines(path: str) -> list[list[str]]:
        """The rows of the UTF-8 CSV file at ``path`` (a byte-order mark is allowed), or a
        CommandError saying why it cannot be read."""
        try:
            with open(path, encoding="utf-8-sig", newline="") as handle:
                return list(csv.reader(handle))
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror or error}") from error
        except (UnicodeDecodeError, csv.Error) as error:
            raise CommandError(f"{path} is not a UTF-8 CSV file: {error}") from error

    def _read_csv(self, path: str, *, room_count: int) -> tuple[list[CsvAssignment], list[tuple[int, str]]]:
        lines = self._csv_lines(path)
        rows: list[CsvAssignment] = []
        errors: list[tuple[int, str]] = []
        first_line_of: dict[str, int] = {}
        seen_data = False
        for number, cells in enumerate(lines, start=1):
            cells = [cell.strip() for cell in cells]
            if not any(cells):
                continue
            if len(cells) != 2:
                errors.append((number, f"line {number}: expected 2 columns (user id, room number), got {len(cells)}"))
                seen_data = True
                continue
            user_id, room_text = cells
            if not seen_data and not INTEGER.fullmatch(room_text):
                seen_data = True  # the optional header line
                continue
            seen_data = True
            if not user_id:
                errors.append((number, f"line {number}: the user id is empty"))
                continue
            if not INTEGER.fullmatch(room_text):
                errors.append((number, f"line {number}: room number {room_text!r} is not a whole number"))
                continue
            room_number = int(room_text)
            if not 1 <= room_number <= room_count:
                errors.append((number, f"line {number}: room number {room_number} is not between 1 and {room_count}"))
                continue
            if user_id in first_line_of:
                errors.append(
                    (number, f"line {number}: user {user_id!r} is already assigned on line {first_line_of[user_id]}")
                )
                continue
            first_line_of[user_id] = number
            rows.append(CsvAssignment(line=number, user_id=user_id, room_number=room_number))
        return rows, errors
