# One image for both processes: `python -m api` (the default) and `python -m workers`
# (docker-compose.yml overrides the command). Configuration is environment variables only;
# see foundations/settings.py.

# The chat page, built to /frontend/dist. Dependencies get their own layer, reinstalled only
# when the lock file changes.
FROM node:24.19.0-slim AS frontend
WORKDIR /frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci
COPY frontend/ ./
RUN npm run build

FROM python:3.11.16-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin app
WORKDIR /app
# Runtime dependencies only, in their own layer so code changes do not reinstall them.
COPY requirements.txt ./
RUN pip install -r requirements.txt
# The code stays root-owned: the app user can read it but not change it.
COPY . .
COPY --from=frontend /frontend/dist ./frontend/dist
USER app
# Inside a container the API must listen on every interface to be reachable at all.
ENV API_HOST=0.0.0.0 \
    API_PORT=8000
EXPOSE 8000
CMD ["python", "-m", "api"]
