"""Chat messages and the chat decision (intents, dialogue state, knowledge)."""

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from streamsense.schemas.base import Decision, Event, Identifier


class ChatMessage(Event):
    """A user's message in a conversation; keyed by ``conversation_id`` on ``chat.messages``."""

    KEY_FIELD = "conversation_id"
    conversation_id: Identifier
    user_id: Identifier | None = None
    text: str = Field(min_length=1, max_length=4000)
    language: str | None = Field(default=None, max_length=16)


class IntentScore(BaseModel):
    intent: str
    probability: float = Field(ge=0, le=1)


class KnowledgeHit(BaseModel):
    node_id: str
    kind: str
    text: str
    score: float


class DialogueState(BaseModel):
    """What the conversation has established so far."""

    domain: str | None = None
    active_intent: str | None = None
    slots: dict[str, str] = Field(default_factory=dict)
    turn_count: int = 0


class ChatDecision(Decision):
    """``label`` is the top intent, or ``uncertain`` below the confidence threshold."""

    stream: Literal["chat"] = "chat"
    intents: list[IntentScore] = Field(default_factory=list)
    state: DialogueState = Field(default_factory=DialogueState)
    knowledge: list[KnowledgeHit] = Field(default_factory=list)


class ChatFeedback(Event):
    """A reviewer's correct intent for a message; keyed by ``conversation_id`` on ``chat.feedback``, though any key
    serves (no ``KEY_FIELD``): every worker reads that topic whole.

    The intent model learns from it online (with EWC, so that old intents are not forgotten).
    """

    conversation_id: Identifier
    text: str = Field(min_length=1, max_length=4000)
    intent: str = Field(min_length=1, max_length=64)


class NewIntent(Event):
    """An intent added at run time from 5 to 50 examples; keyed by ``intent`` on ``chat.intents``, the name its
    removal (a tombstone) gives as key.

    Every chat worker reads the whole topic when it starts and follows it, so every replica knows the intent, and a
    restarted one learns it again; the topic is kept whole, so that a worker replays each intent's versions, and its
    removal (a tombstone: the name with no value), in the order live workers met them.
    """

    KEY_FIELD = "intent"
    intent: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")
    examples: list[Annotated[str, Field(min_length=1, max_length=4000)]] = Field(min_length=5, max_length=50)
