"""How to handle a difficult customer: the profiles of DOMAIN §4 and the advice for each.

DOMAIN §4 names four difficult-customer profiles with advice (emotional, justice-driven,
prepared, people with publicity power) and, among the customer segments, two more that need
their own handling: professional high-frequency complainants (exact answers, strict deadlines)
and malicious or irrational ones (strict verification, consistent handling, protect staff).
The advice is also shaped by §5: CLEAR (calm, listen, empathy, apologise, resolve) and the
forbidden behaviours (arguing at once, blaming the customer, promising without acting).
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kesu.complaints.models import Complaint, Emotion, EscalationLevel, Flag
from kesu.customers.models import Profile

__all__ = ["ADVICE", "Profile", "advice_for", "suggested_profile"]


ADVICE: dict[str, tuple[Promise, ...]] = {
    Profile.EMOTIONAL: (
        _("Let the customer vent first; do not interrupt."),
        _("Stay calm and keep your voice low and even."),
        _("Do not argue or correct the customer while they are upset."),
        _("Show that you understand how they feel, and apologise for the trouble."),
        _("Once they are calmer, repeat the problem back and say what you will do and by when."),
    ),
    Profile.JUSTICE_DRIVEN: (
        _("Affirm that raising the problem was right, and thank the customer for it."),
        _("Tell them what will change because of their complaint."),
        _("Keep them informed until the correction is done."),
    ),
    Profile.PREPARED: (
        _("Know the policy and the facts of the case before you call."),
        _("Answer with confidence and with exact facts: dates, amounts, the rule that applies."),
        _("Never guess: if you do not know, say when you will answer, and keep that time."),
        _("Do not give way on one point and contradict yourself on another."),
    ),
    Profile.PUBLICITY_POWER: (
        _("Journalists, lawyers and industry leaders: choose every word carefully."),
        _("Contain the impact: keep the conversation in the official channel."),
        _("Report upward at once, to your manager and the escalation group."),
        _("Resolve fast: this case comes before routine work."),
        _("Promise only what the organisation has approved."),
    ),
    Profile.PROFESSIONAL: (
        _("Give exact, written answers that cite the rule or the contract."),
        _("Keep every deadline strictly, and record every contact."),
    ),
    Profile.MALICIOUS: (
        _("Verify every claim strictly against orders, records and evidence."),
        _("Handle the case as the rules say, the same way every time and in every branch."),
        _("Protect your colleagues: do not accept abuse, and hand over to a manager if needed."),
        _("Record everything that is said and done."),
    ),
}


def advice_for(profile: str) -> list[str]:
    """The advice for a profile, in the active language; none for an unknown profile."""
    return [str(sentence) for sentence in ADVICE.get(profile, ())]


def suggested_profile(complaint: Complaint) -> str:
    """A first guess from triage's reading; a person knows the customer better."""
    flags = set(complaint.flags.split())
    if flags & {Flag.MEDIA, Flag.LEGAL} or complaint.escalation_level >= EscalationLevel.EXTERNAL:
        return Profile.PUBLICITY_POWER
    if complaint.emotion in (Emotion.ANGRY, Emotion.THREATENING):
        return Profile.EMOTIONAL
    return ""
