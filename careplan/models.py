"""Every capability's models, imported once so the metadata (and Alembic) sees all tables."""
from careplan.audit.models import AuditEvent  # noqa: F401
from careplan.auth.models import ApiToken, User  # noqa: F401
from careplan.idempotency import IdempotentRequest  # noqa: F401
from careplan.clinic.models import ClinicSettings, Discipline  # noqa: F401
from careplan.rooms.models import Location, Room  # noqa: F401
from careplan.patients.models import Patient, PatientAvailability  # noqa: F401
from careplan.intake.models import Intake  # noqa: F401
from careplan.plans.models import CarePlan, CarePlanVersion, CareTeamMember, Phase, SessionLine  # noqa: F401
from careplan.protocols.models import ProtocolTemplate  # noqa: F401
from careplan.providers.models import Provider, ProviderAvailability, ProviderTimeOff  # noqa: F401
from careplan.scheduling.models import Appointment  # noqa: F401
from careplan.fhir.models import CalendarFeed  # noqa: F401
from careplan.reminders.models import AppointmentLinkUse, OutboundEmail  # noqa: F401
from careplan.auth.models import WebSession  # noqa: F401
from careplan.notes.models import Note, NoteVersion  # noqa: F401
from careplan.proposals.models import HeldSlot, Proposal  # noqa: F401
from careplan.webhooks.models import WebhookDelivery, WebhookEndpoint  # noqa: F401
from careplan.portal.models import EarlierSlotRequest, SlotOffer  # noqa: F401
from careplan.jobs.models import SolveJob  # noqa: F401
